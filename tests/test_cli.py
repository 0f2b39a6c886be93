"""The command line reads as users write it; every subcommand is reachable and documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightship.cli import COMMANDS, _normalise_argv, main


def _predict(bundle: Path, images: list[Path], top_k: int = 3, json: bool = False) -> int:
    return 0


def _inspect(root: Path, strict: bool = False) -> int:
    return 0


def test_positional_list_takes_every_word_up_to_the_next_flag() -> None:
    argv = ["B", "a.png", "dir", "--top-k", "2", "--json"]
    expected = ["--bundle", "B", "--images", json.dumps(["a.png", "dir"]), "--top_k", "2", "--json", "true"]
    assert _normalise_argv(_predict, argv) == expected


def test_required_parameters_may_also_be_flags() -> None:
    assert _normalise_argv(_predict, ["--images", '["x"]', "B"]) == ["--images", '["x"]', "--bundle", "B"]


def test_bare_bool_flag_means_true_and_explicit_values_stay() -> None:
    assert _normalise_argv(_inspect, ["R", "--strict"]) == ["--root", "R", "--strict", "true"]
    assert _normalise_argv(_inspect, ["R", "--strict", "false"]) == ["--root", "R", "--strict", "false"]


@pytest.mark.parametrize("name", ["train", "tune lr", *COMMANDS])
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*name.split(), "--help"]) == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_unknown_command_and_no_command_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
    assert main([]) == 2
