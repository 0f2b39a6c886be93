"""``lightship completion bash|zsh|tcsh``: a shell completion script for every command and option.

The whole command tree becomes one jsonargparse parser with subcommands, which prints the script through
shtab (``pip install shtab``); option values with choices (``--data.source``, ``--runtime``) complete too.
Generated once and saved, so a TAB never waits for lightship to start.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    return top


def print_completion(argv: Sequence[str]) -> int:
    """Print the completion script for the shell named in ``argv``."""
    if len(argv) != 1 or argv[0] not in SHELLS:
        raise LightshipError(f"say which shell: lightship completion {'|'.join(SHELLS)}")
    require_extra("shtab", "completion")
    full_parser().parse_args(["--print_completion", f"shtab-{argv[0]}"])
    return 0
