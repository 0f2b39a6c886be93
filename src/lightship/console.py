"""Terminal output shared by every command: consoles that never cut a table, and progress bars for slow steps.

Rich sizes its output to the terminal; when output goes to a pipe or a file it falls back to 80 columns and
cuts table cells (``onnxrunt…``). :func:`console` keeps Rich's behaviour in a terminal and otherwise draws
as wide as the content needs, so ``lightship verify B | tee log`` keeps every word. Text interpolated into
Rich markup goes through :func:`escape` (a folder named ``my[photos]`` or ``pip install "lightship[serve]"``
would otherwise lose its brackets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from rich.console import Console
from rich.markup import escape as _rich_escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

#: Width when writing to a pipe or a file: wide enough for any table lightship prints.
PIPED_WIDTH = 1000

T = TypeVar("T")


def console(stderr: bool = False) -> Console:
    """A Rich console on stdout (or stderr): the terminal's width, or :data:`PIPED_WIDTH` when piped."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


def escape(value: object) -> str:
    """``str(value)`` with Rich markup characters escaped, for interpolating paths and messages."""
    return _rich_escape(str(value))


def track(items: Sequence[T], description: str, name: Callable[[T], str] = str) -> Iterator[T]:
    """Yield ``items`` while a progress bar on stderr says which one runs and how many are done.

    Drawn only in a terminal: piped output and logs get the results, not a bar redrawn hundreds of times.
    """
    err = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task(escape(description), total=len(items))
        for item in items:
            bar.update(task, description=f"{escape(description)} {escape(name(item))}")
            yield item
            bar.advance(task)
        bar.update(task, description=escape(description))
