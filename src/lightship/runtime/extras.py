"""Optional runtimes (OpenVINO, ExecuTorch) as pip extras, with one message when one is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import LightshipError


class MissingExtraError(LightshipError):
    """An optional dependency is not installed; the message gives the pip command."""


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError with ``pip install "lightship[extra]"``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f'{module} is not installed (needed for {extra}): run `pip install "lightship[{extra}]"` ({exc})'
        ) from exc
