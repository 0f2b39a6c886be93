"""Query parameters: each declared once, with its type and range, and checked by one parser.

Why not FastAPI's parameter machinery: it was a visible share of the per-request CPU under load (see
docs/serving.md) for the routes' single integer. A declaration here gives both the check (a 422 naming
the parameter and its range for any other value, never a 500) and the OpenAPI text, so the two cannot
drift apart; tests/serve/test_params.py holds the parser to the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lightship.serve.problems import ServeError

#: Longest accepted spelling of a number (leading zeros allowed); longer strings are not parsed at all.
MAX_DIGITS = 12


@dataclass(frozen=True)
class IntParam:
    """An optional integer query parameter within ``minimum``..``maximum`` (ASCII digits only:
    ``int()`` would also take ``'²'``'s cousins, ``'٣'`` or ``' 7 '``, which no schema allows)."""

    name: str
    default: int
    minimum: int
    maximum: int
    description: str

    def parse(self, query: Mapping[str, str]) -> int:
        raw = query.get(self.name)
        if raw is None:
            return self.default
        if raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS:
            value = int(raw)
            if self.minimum <= value <= self.maximum:
                return value
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise ServeError(
            422,
            "invalid_parameter",
            f"{self.name} must be an integer from {self.minimum} to {self.maximum}, got {shown!r}",
            details={"parameter": self.name},
        )

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": {
                "type": "integer",
                "minimum": self.minimum,
                "maximum": self.maximum,
                "default": self.default,
            },
        }


def parse_query(query: Mapping[str, str], param: IntParam) -> int:
    """``param`` from ``query``, which may hold nothing else: a parameter this API does not declare is a
    422 too (a misspelt ``topk=3`` silently ignored would return five labels and look like a bug)."""
    for name in query:
        if name != param.name:
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise ServeError(
                422,
                "invalid_parameter",
                f"unknown query parameter {shown!r}; this route takes only {param.name}",
                details={"parameter": shown},
            )
    return param.parse(query)


TOP_K = IntParam("top_k", 5, 1, 1000, "How many (label, probability) pairs to return, best first")
