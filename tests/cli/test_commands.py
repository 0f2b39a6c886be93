"""The command line reads as users write it; every subcommand is reachable and documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightship.cli import COMMANDS, main
from lightship.cli.spelling import function_argv


def _predict(bundle: Path, images: list[Path], top_k: int = 3, json: bool = False) -> int:
    return 0


def _inspect(root: Path, strict: bool = False) -> int:
    return 0


def test_positional_list_takes_every_word_up_to_the_next_flag() -> None:
    argv = ["B", "a.png", "dir", "--top-k", "2", "--json"]
    expected = ["--bundle", "B", "--images", json.dumps(["a.png", "dir"]), "--top_k", "2", "--json", "true"]
    assert function_argv(_predict, argv) == expected


def test_required_parameters_may_also_be_flags() -> None:
    assert function_argv(_predict, ["--images", '["x"]', "B"]) == ["--images", '["x"]', "--bundle", "B"]


def test_bare_bool_flag_means_true_and_explicit_values_stay() -> None:
    assert function_argv(_inspect, ["R", "--strict"]) == ["--root", "R", "--strict", "true"]
    assert function_argv(_inspect, ["R", "--strict", "false"]) == ["--root", "R", "--strict", "false"]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*name.split(), "--help"]) == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_unknown_command_and_no_command_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
    assert main([]) == 2


@pytest.mark.parametrize(
    "config", sorted((Path(__file__).parents[2] / "configs").glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_shipped_config_parses_and_builds_its_model_and_optimiser(config: Path) -> None:
    """A typo'd key or a bad value in a shipped recipe fails here, not ten minutes into a run."""
    import lightning as L

    from lightship.cli.train import config_from_namespace, train_parser
    from lightship.models import create_model
    from lightship.training.module import build_optimizer

    cfg = config_from_namespace(train_parser().parse_args(["--config", str(config)]))
    L.Trainer(**{**cfg.trainer, "logger": False, "enable_checkpointing": False})  # every trainer key is valid
    net = create_model(cfg.model.name, num_classes=10, **cfg.model.kwargs)
    groups = build_optimizer(net, cfg.optim).param_groups
    trainable = {id(p) for p in net.parameters() if p.requires_grad}
    assert sorted(id(p) for g in groups for p in g["params"]) == sorted(trainable)  # each once, none left out
