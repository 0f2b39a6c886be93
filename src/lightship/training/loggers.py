"""A CSV logger that appends: a resumed run keeps the metrics of its earlier epochs.

Lightning's ``CSVLogger`` deletes an existing ``metrics.csv`` when it starts in a non-empty folder, which
would erase a killed run's history on ``--resume`` (and leave ``curves.png`` with half a run).
"""

from __future__ import annotations

import csv

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment


class _AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        # Keep the file; adopt its columns so new rows and a widened header stay consistent.
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = sorted(next(csv.reader(file), []))


class AppendingCSVLogger(CSVLogger):
    """``CSVLogger`` writing ``save_dir/metrics.csv``, appending to what is already there."""

    def __init__(self, save_dir: str) -> None:
        super().__init__(save_dir, name="", version="")

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment
