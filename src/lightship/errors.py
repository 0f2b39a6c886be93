"""Errors a user can act on. The CLI prints them without a traceback and exits with status 2."""

from __future__ import annotations

import importlib
from types import ModuleType


class LightshipError(Exception):
    """Base class: the message says what went wrong, which file, and what to do next."""


class DataError(LightshipError):
    """A data source is missing, malformed, or (with ``strict``) contains bad files."""


class CheckpointError(LightshipError):
    """A checkpoint is missing, truncated, or from another model/config."""


class BundleError(LightshipError):
    """A bundle is incomplete, tampered with, or fails verification."""


class MissingExtraError(LightshipError):
    """An optional dependency (a pip extra such as ``lightship[openvino]``) is not installed."""


def require_extra(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError with ``pip install "lightship[extra]"``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f'{module} is not installed (needed for {extra}): run `pip install "lightship[{extra}]"` ({exc})'
        ) from exc


def load_failure(exc: BaseException) -> str:
    """Why ``torch.load`` refused a file, in one short line. Torch's own message for a file that is no
    pickle runs to many lines and suggests ``weights_only=False``, which would run arbitrary code: never."""
    if type(exc).__name__ == "UnpicklingError":
        return "not a file written by torch.save"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def check_at_least(minimum: float, **options: float | None) -> None:
    """LightshipError naming every command-line option below ``minimum`` (None means not set: allowed).

    ``check_at_least(1, n=n, threads=threads)`` -> ``--n must be 1 or more (it is 0)``.
    """
    low = [f"--{name} must be {minimum} or more (it is {value})" for name, value in options.items()]
    low = [
        text
        for text, value in zip(low, options.values(), strict=True)
        if value is not None and value < minimum
    ]
    if low:
        raise LightshipError("; ".join(low))


def check_port(port: int, allow_zero: bool = False) -> None:
    """LightshipError for a TCP port out of range (0 asks the system for a free one, where allowed)."""
    lowest = 0 if allow_zero else 1
    if not lowest <= port <= 65535:
        raise LightshipError(f"--port must be between {lowest} and 65535 (it is {port})")
