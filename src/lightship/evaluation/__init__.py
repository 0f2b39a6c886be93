"""Evaluation of trained checkpoints (``lightship evaluate``) and training curves (``plot_curves``).

``evaluate`` and ``evaluate_command`` are imported lazily so that training can import ``plot_curves``
without pulling in the checkpoint and data code (and without an import cycle through ``lightship.training``).
"""

from __future__ import annotations

from typing import Any

from lightship.evaluation.curves import plot_curves

__all__ = ["evaluate", "evaluate_command", "plot_curves"]


def __getattr__(name: str) -> Any:
    if name in {"evaluate", "evaluate_command"}:
        from lightship.evaluation import command

        return getattr(command, name)
    raise AttributeError(f"module 'lightship.evaluation' has no attribute {name!r}")
