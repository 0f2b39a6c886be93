"""One spelling policy for every command line, applied before jsonargparse sees it.

- Option names take dashes or underscores: ``--top-k`` = ``--top_k``, ``--trainer.max-epochs`` =
  ``--trainer.max_epochs`` (values are never touched).
- A yes/no option given alone means yes: ``--overwrite`` = ``--overwrite true`` (jsonargparse wants a value).
- A command's required parameters may come as words, in order, or as options (``web BUNDLE --out SITE``);
  a list parameter takes every word up to the next option (``predict BUNDLE a.png b.png``).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence

#: Words that mean yes or no after a yes/no option.
BOOL_WORDS = {"true", "false", "yes", "no", "1", "0", "on", "off"}
#: Options that take no value (they are actions of the parser itself).
VALUELESS = {"--help", "-h"}


def underscored(arg: str) -> str:
    """``--top-k=3`` -> ``--top_k=3``, ``--trainer.callbacks+=X`` unchanged; values and words unchanged."""
    if not arg.startswith("--") or arg == "--":
        return arg
    cut = min((i for i in (arg.find("+="), arg.find("=")) if i > 0), default=len(arg))
    return "--" + arg[2:cut].replace("-", "_") + arg[cut:]


def option_name(arg: str) -> str:
    """The option a word names, without its value: ``--a.b=1`` and ``--a.b+=X`` -> ``--a.b``."""
    name = arg.partition("=")[0]
    return name[:-1] if name.endswith("+") else name


def bare_flags_as_true(words: Sequence[str], bools: set[str] | None = None) -> list[str]:
    """``--x`` followed by another option or nothing -> ``--x true``.

    ``bools``: the yes/no options, when known (function commands); a yes/no option then also takes
    ``true`` when a plain word follows it that is no yes/no word (``data inspect --strict ROOT``). Unknown
    (train: its options come from classes), any bare option is taken for a yes/no one; a bare option of
    another type then gets the parser's own error about ``true``.
    """
    out: list[str] = []
    for i, arg in enumerate(words):
        out.append(arg)
        if not arg.startswith("--") or "=" in arg or arg in VALUELESS:
            continue
        following = words[i + 1] if i + 1 < len(words) else None
        if bools is None:
            if following is None or following.startswith("--"):
                out.append("true")
        elif arg in bools and (following is None or following.lower() not in BOOL_WORDS):
            out.append("true")
    return out


def function_argv(fn: Callable[..., object], argv: Sequence[str]) -> list[str]:
    """A function command's words as jsonargparse options (``--name value`` throughout), by the policy above."""
    params = list(inspect.signature(fn).parameters.values())
    bools = {f"--{p.name}" for p in params if p.annotation in (bool, "bool")}
    words = bare_flags_as_true([underscored(arg) for arg in argv], bools)
    given = {option_name(w) for w in words if w.startswith("--")}
    positional = [p for p in params if p.default is inspect.Parameter.empty and f"--{p.name}" not in given]
    out: list[str] = []
    i = position = 0
    while i < len(words):
        arg = words[i]
        if arg.startswith("-"):
            out.append(arg)
            if "=" not in arg and arg not in VALUELESS and i + 1 < len(words):
                out.append(words[i + 1])
                i += 1
            i += 1
            continue
        if position >= len(positional):
            out.append(arg)  # jsonargparse reports the unexpected word
            i += 1
            continue
        param = positional[position]
        position += 1
        end = i + 1
        if str(param.annotation).startswith("list"):
            while end < len(words) and not words[end].startswith("--"):
                end += 1
            out += [f"--{param.name}", json.dumps(words[i:end])]
        else:
            out += [f"--{param.name}", arg]
        i = end
    return out
