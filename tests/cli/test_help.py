"""Help that helps: every option described, types named, usage naming the command, groups listing their
commands, one spelling (dashes or underscores) everywhere, a version flag and shell completion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lightship import __version__
from lightship.cli import main
from lightship.cli.commands import GROUPS, installed_parsers
from lightship.cli.spelling import function_argv, underscored
from lightship.cli.train import config_from_namespace, train_parser, train_words

REPO = Path(__file__).resolve().parents[2]


def _options(parser):
    for action in parser._actions:  # argparse keeps no public list of its options
        names = [o for o in action.option_strings if o.startswith("--")]
        if not names or names[0] in {"--help", "--print_config", "--config"}:
            continue
        if action.help is not None and "Path to a configuration file" in action.help:
            continue  # jsonargparse's `--data CONFIG` for a whole section
        yield names[0], action


@pytest.mark.parametrize(
    ("name", "parser"), list(installed_parsers()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_option_says_what_it_is_for(name, parser) -> None:
    undocumented = [option for option, action in _options(parser) if not (action.help or "").strip()]
    assert not undocumented, f"lightship {name}: {undocumented}"


def test_train_help_names_the_command_and_its_types(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: lightship train")
    assert "<function" not in text and "lambda" not in text
    assert re.search(r"--tta \{0,1,2\}", text)
    for option in (
        "--data.root",
        "--model.weights",
        "--optim.lookahead",
        "--trainer.callbacks",
        "--overwrite",
    ):
        assert option in text, option
    assert "Weights to start from" in text  # an attribute docstring of ModelConfig


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_group_lists_its_commands(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([group, "--help"]) == 0
    text = capsys.readouterr().out
    assert all(f"{group} {sub}" in text for sub in GROUPS[group])
    assert main([group]) == 2  # without a command it is a usage error, and still lists them
    text = capsys.readouterr().out
    assert all(f"{group} {sub}" in text for sub in GROUPS[group])


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([flag]) == 0
    assert capsys.readouterr().out.strip() == f"lightship {__version__}"


def test_dashes_and_underscores_are_one_spelling() -> None:
    dashed = train_parser().parse_args(train_words(["--trainer.max-epochs", "3", "--data.batch-size=16"]))
    plain = train_parser().parse_args(train_words(["--trainer.max_epochs", "3", "--data.batch_size", "16"]))
    assert config_from_namespace(dashed) == config_from_namespace(plain)
    assert underscored("--trainer.callbacks+=EarlyStopping") == "--trainer.callbacks+=EarlyStopping"
    assert underscored("--top-k=2") == "--top_k=2" and underscored("my-file.png") == "my-file.png"


def test_a_lone_yes_no_option_means_yes() -> None:
    cfg = train_parser().parse_args(train_words(["--overwrite", "--data.strict", "--seed", "1"]))
    assert cfg.overwrite is True and cfg.data.strict is True and cfg.seed == 1


def test_resume_takes_its_folder_either_way(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("seed: 7\ndata: {source: digits}\n")
    for words in (["--resume", str(run)], [f"--resume={run}"]):
        cfg = train_parser().parse_args(train_words([*words, "--data.batch_size", "8"]))
        assert (cfg.seed, cfg.data.batch_size, str(cfg.resume)) == (7, 8, str(run))


def _predict(bundle, images: list, top_k: int = 3, json: bool = False) -> int:
    return 0


def test_function_commands_take_words_or_options_in_either_spelling() -> None:
    expected = ["--bundle", "B", "--images", '["a.png"]', "--top_k", "2", "--json", "true"]
    assert function_argv(_predict, ["B", "a.png", "--top-k", "2", "--json"]) == expected
    assert function_argv(_predict, ["B", "a.png", "--top_k", "2", "--json"]) == expected


def test_bash_completion_knows_the_commands_and_their_choices(tmp_path) -> None:
    pytest.importorskip("shtab", reason="completion is the optional `completion` extra")
    # A fresh process, as a user's shell runs it: jsonargparse lists the subclasses of every class the process
    # has imported, so inside a test session that imported the edge converters it ran for over ten minutes.
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-m", "lightship.cli", "completion", "bash"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    script = tmp_path / "lightship.bash"
    script.write_text(done.stdout)
    # Class-typed options (--trainer.strategy, ...) complete as free text: expanding every subclass's init
    # arguments made an 85 MB script.
    assert script.stat().st_size < 1_000_000
    probe = (
        f"source {script}; COMP_WORDS=(lightship tr); COMP_CWORD=1; _shtab_lightship; echo ${{COMPREPLY[@]}}; "
        "COMP_WORDS=(lightship train --data.source ''); COMP_CWORD=3; _shtab_lightship; echo ${COMPREPLY[@]}"
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60)
    first, second = done.stdout.splitlines()[:2]
    assert first.split() == ["train"], done
    assert {"auto", "digits", "imagefolder"} <= set(second.split()), done
