"""What the command line says when something is wrong: one line that names the problem, never a traceback.

Parser errors from jsonargparse come as several indented lines of Python type names
(``Expected a typing.Literal['a', 'b']. Got value: c``); they are rewritten into one line in the words of
the command line (``--data.source: expected one of a, b; got 'c'``).
"""

from __future__ import annotations

import re

from lightship.console import console, escape

#: Exit codes: a check failed (verification, a NaN loss), or the input or the usage was wrong.
FAILED, USAGE = 1, 2

_KEY = re.compile(r'Parser key "([^"]+)":\s*')
_LITERAL = re.compile(r"(?:typing\.)?Literal\[([^\]]*)\]")
_CLASS = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")


def one_line(message: str) -> str:
    """A parser message as one line: option names as typed, type names as Python writes them in code."""
    message = _KEY.sub(lambda m: f"--{m.group(1)}: ", message)
    message = _LITERAL.sub(lambda m: "one of " + m.group(1).replace("'", ""), message)
    message = _CLASS.sub(r"\1", message)
    message = message.replace("Expected a one of", "expected one of").replace("Expected a ", "expected ")
    message = re.sub(r"\.?\s*Got value:\s*", "; got ", message)
    return " ".join(message.split())


def report(message: str, command: str | None = None, label: str = "error") -> None:
    """Print ``error: MESSAGE`` on stderr (escaped: brackets in paths and pip extras stay whole)."""
    hint = f" (see `lightship {command} --help`)" if command else ""
    console(stderr=True).print(f"[red]{label}:[/] {escape(message)}{escape(hint)}", highlight=False)
