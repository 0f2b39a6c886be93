"""Response shapes, for the OpenAPI docs. Routes build plain dicts of these shapes and return them as
JSONResponse directly: re-validating our own output on every request would cost throughput for nothing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ModelRef(BaseModel):
    name: str
    version: str
    unverified: str | None = None
    """Present when the server runs an artifact that failed or lacks verification (--allow-unverified)."""


class LabelScore(BaseModel):
    label: str
    probability: float


class Timings(BaseModel):
    decode: float
    queue: float
    inference: float
    total: float


class ImagePrediction(BaseModel):
    filename: str
    label: str
    probability: float
    top_k: list[LabelScore]
    batch_size: int


class PredictResponse(BaseModel):
    model: ModelRef
    label: str
    probability: float
    top_k: list[LabelScore]
    batch_size: int
    timings_ms: Timings


class ErrorBody(BaseModel):
    code: str
    message: str
    limit: str | None = None
    value: float | None = None
    allowed: float | None = None
    parameter: str | None = None


class ImageError(BaseModel):
    """A batch entry that could not be scored: the error it would have got alone."""

    filename: str
    error: ErrorBody


class BatchResponse(BaseModel):
    model: ModelRef
    predictions: list[ImagePrediction | ImageError]
    timings_ms: Timings


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_docs(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}
