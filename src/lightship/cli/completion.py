"""``lightship completion bash|zsh|tcsh``: a shell completion script for every command and option.

The whole command tree becomes one jsonargparse parser with subcommands, which prints the script through
shtab (``pip install shtab``); option values with choices (``--data.source``, ``--runtime``) complete too.
Generated once and saved, so a TAB never waits for lightship to start.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from pathlib import PurePath

from jsonargparse import ArgumentParser, set_parsing_settings

from lightship.cli.commands import COMMANDS, GROUPS, installed_parsers
from lightship.errors import LightshipError, require_extra

SHELLS = ("bash", "zsh", "tcsh")


def full_parser() -> ArgumentParser:
    """Every command as a subcommand of one parser (groups as nested subcommands)."""
    set_parsing_settings(add_print_completion_argument=True)
    top = ArgumentParser(
        prog="lightship", description="Train, evaluate, export, verify and serve image classifiers."
    )
    subcommands = top.add_subcommands(required=True, dest="command")
    groups = {}
    for name, parser in installed_parsers():
        if " " not in name:
            subcommands.add_subcommand(name, parser, help=COMMANDS[name].summary)
            continue
        group, word = name.split()
        if group not in groups:  # jsonargparse wants each level added before the next
            group_parser = ArgumentParser(prog=f"lightship {group}")
            subcommands.add_subcommand(group, group_parser, help=", ".join(GROUPS[group]))
            groups[group] = group_parser.add_subcommands(required=True, dest=group)
        groups[group].add_subcommand(word, parser, help=COMMANDS[name].summary)
    _complete_class_options_by_name_only(top)
    return top


def _complete_class_options_by_name_only(parser: ArgumentParser) -> None:
    """Options typed by a class hierarchy (``--trainer.strategy``, ``--trainer.logger``, ...) complete like
    plain values. Left to jsonargparse, the script lists every init argument of every subclass, recursively:
    through torch's DeviceMesh that came to 85 MB and 30 s for ``lightship completion bash``."""
    for action in parser._actions:
        if _names_a_class(getattr(action, "_typehint", None)):  # jsonargparse's typed actions carry it
            action.complete = {}  # shtab: no special completion (free text); jsonargparse leaves it alone
    subcommands = parser._subcommands_action
    if subcommands is not None:
        for subparser in subcommands._name_parser_map.values():
            _complete_class_options_by_name_only(subparser)


def print_completion(argv: Sequence[str]) -> int:
    """Print the completion script for the shell named in ``argv``."""
    if len(argv) != 1 or argv[0] not in SHELLS:
        raise LightshipError(f"say which shell: lightship completion {'|'.join(SHELLS)}")
    require_extra("shtab", "completion")
    full_parser().parse_args(["--print_completion", f"shtab-{argv[0]}"])
    return 0


def _names_a_class(typehint: object) -> bool:
    """Whether a type hint accepts instances of some class beyond plain values (an Accelerator, a Logger)."""
    plain = (int, float, str, bool, bytes, dict, list, tuple, type(None))
    if inspect.isclass(typehint):
        return not issubclass(typehint, (*plain, PurePath))
    return any(_names_a_class(arg) for arg in typing.get_args(typehint))
