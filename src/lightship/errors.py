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
