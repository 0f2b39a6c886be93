"""The command table: every subcommand of ``lightship``, what it does, and what it needs installed.

Most commands are typed functions in the package whose signature and docstring become their options and
help (jsonargparse maps them); ``train`` and ``tune`` build their parser from the config dataclasses
instead (:mod:`lightship.cli.train`). Adding a command is one row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from jsonargparse import ArgumentParser

from lightship.cli.parsing import check_config_files, function_parser
from lightship.cli.spelling import function_argv
from lightship.errors import LightshipError, MissingExtraError
from lightship.tables import Row, Table, load_target


@dataclass(frozen=True, kw_only=True)
class Command(Row):
    """A subcommand; its ``target`` is the function that runs it."""

    summary: str
    """One line for ``lightship --help``."""
    parses_itself: bool = False
    """The target takes the command line's words (train, tune); otherwise its signature is the parser."""


COMMANDS: Table[Command] = Table(
    "command",
    {
        "train": Command(
            target="lightship.cli.train:train_command",
            summary="train a classifier on a folder of images, CIFAR-10 or the built-in digits",
            parses_itself=True,
        ),
        "tune lr": Command(
            target="lightship.cli.train:tune_lr_command",
            summary="find a learning rate (Lightning's range test)",
            parses_itself=True,
        ),
        "tune batch-size": Command(
            target="lightship.cli.train:tune_batch_size_command",
            summary="find the largest batch size that fits",
            parses_itself=True,
        ),
        "evaluate": Command(
            target="lightship.evaluation:evaluate_command",
            summary="score a trained model on a split: metrics, confusion matrix, report",
        ),
        "export": Command(
            target="lightship.export.commands:export_command",
            summary="export a trained model into a verified bundle (ONNX, TorchScript, int8, OpenVINO)",
        ),
        "verify": Command(
            target="lightship.export.commands:verify_command",
            summary="check every artifact of a bundle against the eager model",
        ),
        "predict": Command(
            target="lightship.runtime.predict:predict_command",
            summary="classify image files and folders with a bundle (or a run)",
        ),
        "benchmark": Command(
            target="lightship.runtime.benchmark:benchmark_command",
            summary="latency, throughput and memory of every runtime of a bundle",
        ),
        "serve": Command(
            target="lightship.serve:serve_command",
            summary="serve a bundle over HTTP (FastAPI, micro-batching, metrics)",
            extra="serve",
            extra_module="uvicorn",
        ),
        "web": Command(
            target="lightship.web:web_command",
            summary="build a static web page that runs a bundle in the browser",
        ),
        "models": Command(target="lightship.cli.commands:models_command", summary="list the model names"),
        "data inspect": Command(
            target="lightship.evaluation.inspect:inspect_command",
            summary="check a folder of images before training (balance, sizes, duplicates, bad files)",
        ),
        "data shard": Command(
            target="lightship.data.shard_writer:shard_command",
            summary="write a folder of images as WebDataset shards",
        ),
    },
    error=LightshipError,
)

#: Command groups (``lightship data ...``) and their subcommands.
GROUPS: dict[str, list[str]] = {}
for _name in COMMANDS:
    if " " in _name:
        GROUPS.setdefault(_name.split()[0], []).append(_name.split()[1])


def models_command(filter: str = "") -> int:
    """List the model names that --model.name accepts.

    Args:
        filter: Only names containing this text.
    """
    from lightship.models import describe_model, list_models

    for name in list_models():
        if filter in name:
            print(f"{name:28s} {describe_model(name)}")
    return 0


def command_parser(name: str) -> ArgumentParser:
    """The parser of command ``name``; MissingExtraError when its optional dependency is not installed."""
    from lightship.cli.train import (  # Lightning: only when train's parser is asked for
        train_parser,
        tune_parser,
    )

    row = COMMANDS[name]
    row.check_installed()
    if name == "train":
        return train_parser()
    if row.parses_itself:
        return tune_parser(name.split()[1])
    return function_parser(name, load_target(row.target))


def installed_parsers() -> Iterator[tuple[str, ArgumentParser]]:
    """(name, parser) of every command whose optional dependencies are installed."""
    for name in COMMANDS:
        try:
            yield name, command_parser(name)
        except MissingExtraError:
            continue


def run(name: str, argv: Sequence[str]) -> int:
    """Run command ``name`` with the words after it."""
    row = COMMANDS[name]
    row.check_installed()
    fn = load_target(row.target)
    if row.parses_itself:
        return int(fn(argv) or 0)
    parser = function_parser(name, fn)
    words = function_argv(fn, argv)
    check_config_files(words)
    cfg = parser.parse_args(words)
    cfg.pop("config", None)
    return int(fn(**parser.instantiate(cfg).as_dict()) or 0)
