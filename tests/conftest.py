"""Shared fixtures. Tests make their own small data; nothing is downloaded."""

from __future__ import annotations

import os

# Keep the two cores of the CI machine for the test processes themselves.
os.environ.setdefault("OMP_NUM_THREADS", "2")
