"""Atomic writes for reports: a reader (or a crashed run) never sees half a JSON file or half a PNG."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from matplotlib.figure import Figure


def _temp_beside(path: Path) -> Path:
    """A fresh temp file in ``path``'s folder, so the final ``os.replace`` is a same-filesystem rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file next to ``path``, then rename it into place."""
    tmp = _temp_beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_figure_atomic(fig: Figure, path: Path, dpi: int = 100) -> None:
    """Render ``fig`` as PNG to a temp file next to ``path``, then rename it into place."""
    tmp = _temp_beside(path)
    try:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
