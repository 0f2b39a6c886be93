"""Evaluation of trained checkpoints (``lightship evaluate``): metrics, pictures and a report."""

from lightship.evaluation.command import evaluate, evaluate_command

__all__ = ["evaluate", "evaluate_command"]
