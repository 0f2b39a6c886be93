"""The ``lightship`` command: one entry point, each subcommand a thin call into the Python API.

``lightship COMMAND [options]``; the commands are the rows of :data:`~lightship.cli.commands.COMMANDS`.
Options follow LightningCLI/jsonargparse conventions (``--config FILE`` then dotted overrides), spelt with
dashes or underscores (:mod:`~lightship.cli.spelling`). Every failure a user can cause ends in one line
and exit status 2, never a traceback (:mod:`~lightship.cli.problems`); dependencies' advertisements and
deprecation notices are hidden unless ``--verbose`` (:mod:`~lightship.cli.quiet`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lightship import quiet
from lightship.cli import problems
from lightship.cli.commands import COMMANDS, GROUPS, run
from lightship.errors import LightshipError
from lightship.images import ImageDecodeError

__all__ = ["COMMANDS", "main"]

#: Options of ``lightship`` itself, accepted anywhere on the line.
VERBOSE = "--verbose"


def usage(group: str | None = None) -> str:
    """The command list (of one group, or of all), one line per command."""
    names = [n for n in COMMANDS if group is None or n.split()[0] == group]
    width = max(len(n) for n in names)
    lines = "\n".join(f"  {n:{width}}  {COMMANDS[n].summary}" for n in names)
    head = (
        f"usage: lightship {group} {{{', '.join(GROUPS[group])}}} ..."
        if group
        else "usage: lightship COMMAND ..."
    )
    return (
        f"{head}\n\n"
        + ("Train, evaluate, export, verify and serve image classifiers.\n\n" if group is None else "")
        + f"commands:\n{lines}\n\n"
        "`lightship COMMAND --help` describes a command's options; -V/--version prints the version; --verbose "
        "shows the dependencies' own notices; `lightship completion bash|zsh|tcsh` prints shell completion."
    )


def _command(argv: list[str]) -> tuple[str | None, list[str]]:
    """The command name the words start with (two words for a group), and the rest."""
    first, rest = argv[0], argv[1:]
    if first in GROUPS:
        if rest and f"{first} {rest[0]}" in COMMANDS:
            return f"{first} {rest[0]}", rest[1:]
        return None, argv
    return (first if first in COMMANDS else None), rest


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status (0 ok, 1 a check failed, 2 a usage or input error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if VERBOSE in argv:
        argv.remove(VERBOSE)
    else:
        quiet.install()
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0 if argv else problems.USAGE
    if argv[0] in {"-V", "--version", "version"}:
        from lightship import __version__

        print(f"lightship {__version__}")
        return 0
    name, rest = _command(argv)
    try:
        if argv[0] == "completion":
            from lightship.cli.completion import print_completion

            return print_completion(rest)
        if name is None:
            return _unknown(argv)
        return run(name, rest)
    except SystemExit as exc:  # --help, or jsonargparse's own exit
        return exc.code if isinstance(exc.code, int) else problems.USAGE
    except BrokenPipeError:  # `lightship predict ... --json | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        problems.report("interrupted", label="stopped")
        return 130
    except (LightshipError, ImageDecodeError) as exc:
        problems.report(str(exc))
        return problems.USAGE
    except argparse.ArgumentError as exc:
        problems.report(problems.one_line(str(exc)), command=name)
        return problems.USAGE
    except FloatingPointError as exc:  # a NaN/inf loss: the message names the step and batch
        problems.report(str(exc), label="training stopped")
        return problems.FAILED
    except OSError as exc:  # a path the user gave that cannot be read or written
        where = f" {exc.filename}" if exc.filename else ""
        problems.report(f"cannot use{where}: {exc.strerror or exc}")
        return problems.USAGE


def _unknown(argv: list[str]) -> int:
    first = argv[0]
    if first in GROUPS:
        if len(argv) == 1 or argv[1] in {"-h", "--help"}:
            print(usage(first))
            return 0 if len(argv) > 1 else problems.USAGE
        problems.report(f"unknown command '{first} {argv[1]}'; {first} has: {', '.join(GROUPS[first])}")
        return problems.USAGE
    import difflib

    close = difflib.get_close_matches(first, [*COMMANDS, *GROUPS], n=2)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    problems.report(f"unknown command {first!r}{hint} (`lightship --help` lists the commands)")
    return problems.USAGE
