"""Errors a user can act on. The CLI prints them without a traceback and exits with status 2."""

from __future__ import annotations


class LightshipError(Exception):
    """Base class: the message says what went wrong, which file, and what to do next."""


class DataError(LightshipError):
    """A data source is missing, malformed, or (with ``strict``) contains bad files."""


class CheckpointError(LightshipError):
    """A checkpoint is missing, truncated, or from another model/config."""


class BundleError(LightshipError):
    """A bundle is incomplete, tampered with, or fails verification."""
