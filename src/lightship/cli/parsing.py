"""Building the parsers of lightship's commands with jsonargparse, and checking what they will read.

Shared by the train/tune parsers (:mod:`lightship.cli.train`) and the function commands
(:mod:`lightship.cli.commands`), so every command gets the same settings, help and config-file checks.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import yaml
from jsonargparse import ActionConfigFile, ArgumentParser, set_parsing_settings

from lightship.cli.spelling import option_name
from lightship.errors import LightshipError


def new_parser(**kwargs: object) -> ArgumentParser:
    """A jsonargparse parser with lightship's settings: errors raised (not printed and exited), and the
    config dataclasses' attribute docstrings shown as their options' help."""
    set_parsing_settings(docstring_parse_attribute_docstrings=True)
    return ArgumentParser(exit_on_error=False, **kwargs)


def function_parser(name: str, fn: Callable[..., int]) -> ArgumentParser:
    """The parser of a function command: its parameters as options, its docstring as help."""
    required = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
    words = [p.name.upper() + ("..." if str(p.annotation).startswith("list") else "") for p in required]
    usage = (
        f"lightship {name} {' '.join(words)} [--option value ...]  (or --{required[0].name} ... as options)"
        if required
        else None
    )
    description = (fn.__doc__ or "").split("\n\n")[0]
    parser = new_parser(prog=f"lightship {name}", usage=usage, description=description)
    parser.add_argument(
        "--config", action=ActionConfigFile, help="YAML file holding any of the options below"
    )
    parser.add_function_arguments(fn)
    return parser


def user_options(parser: ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    """(``--name``, action) of every option a user sets: not ``--help``, ``--config`` or jsonargparse's own
    section-wide ``--data CONFIG`` / ``--data.help``."""
    for action in parser._actions:  # argparse keeps no public list of a parser's options
        option = next((o for o in action.option_strings if o.startswith("--")), None)
        if option is None or option in {"--help", "--config", "--print_config"} or option.endswith(".help"):
            continue
        if isinstance(action, ActionConfigFile) or "Path to a configuration file" in (action.help or ""):
            continue
        yield option, action


def check_config_files(words: Sequence[str]) -> None:
    """Each ``--config FILE`` that exists must hold a YAML mapping: a LightshipError naming the file, rather
    than the parser's message about an anonymous string."""
    for i, word in enumerate(words):
        if option_name(word) != "--config":
            continue
        value = word.partition("=")[2] or (words[i + 1] if i + 1 < len(words) else "")
        path = Path(value)
        if "\n" in value or not path.is_file():
            continue  # inline YAML, or a missing file (the parser says that one clearly)
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise LightshipError(
                f"--config {path} is not readable YAML: {' '.join(str(exc).split())}"
            ) from exc
        if not isinstance(content, dict):
            raise LightshipError(
                f"--config {path} holds no options (a YAML mapping such as `data: {{root: ...}}`)"
            )
