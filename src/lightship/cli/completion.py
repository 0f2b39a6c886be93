"""``lightship completion bash|zsh|tcsh``: a shell completion script for every command and option.

The whole command tree becomes one jsonargparse parser with subcommands, which prints the script through
shtab (``pip install shtab``); option values with choices (``--data.source``, ``--runtime``) complete too.
Generated once and saved, so a TAB never waits for lightship to start.
"""

from __future__ import annotations

from collections.abc import Sequence

from jsonargparse import ArgumentParser, set_parsing_settings

from lightship.cli.commands import COMMANDS, GROUPS, function_parser
from lightship.errors import LightshipError, MissingExtraError, require_extra
from lightship.tables import load_target

SHELLS = ("bash", "zsh", "tcsh")


def _parser(name: str) -> ArgumentParser | None:
    """The parser of command ``name``; None when its optional dependency is not installed."""
    from lightship.cli.train import train_parser

    row = COMMANDS[name]
    try:
        row.check_installed()
    except MissingExtraError:
        return None
    if name == "train":
        return train_parser()
    if row.parses_itself:  # tune: the train options (its own few complete as plain options)
        return train_parser(f"lightship {name}")
    return function_parser(name, load_target(row.target))


def full_parser() -> ArgumentParser:
    """Every command as a subcommand of one parser (groups as nested subcommands)."""
    set_parsing_settings(add_print_completion_argument=True)
    top = ArgumentParser(
        prog="lightship", description="Train, evaluate, export, verify and serve image classifiers."
    )
    subcommands = top.add_subcommands(required=True, dest="command")
    groups = {}
    for name in COMMANDS:
        parser = _parser(name)
        if parser is None:
            continue
        if " " not in name:
            subcommands.add_subcommand(name, parser, help=COMMANDS[name].summary)
            continue
        group, word = name.split()
        if group not in groups:  # jsonargparse wants each level added before the next
            group_parser = ArgumentParser(prog=f"lightship {group}")
            subcommands.add_subcommand(group, group_parser, help=", ".join(GROUPS[group]))
            groups[group] = group_parser.add_subcommands(required=True, dest=group)
        groups[group].add_subcommand(word, parser, help=COMMANDS[name].summary)
    return top


def print_completion(argv: Sequence[str]) -> int:
    """Print the completion script for the shell named in ``argv``."""
    if len(argv) != 1 or argv[0] not in SHELLS:
        raise LightshipError(f"say which shell: lightship completion {'|'.join(SHELLS)}")
    require_extra("shtab", "completion")
    full_parser().parse_args(["--print_completion", f"shtab-{argv[0]}"])
    return 0
