"""Schemathesis: requests generated from the server's own OpenAPI schema (valid and invalid ones, every
route, seeded and bounded) against a real server on a real socket get no 5xx and no answer outside the
schema: undocumented statuses, wrong content types, bodies that do not match their declared model.

Driven through Schemathesis' Hypothesis strategies rather than its pytest plugin (whose lazy-fixture
loader does not run under pytest 9); the checks are Schemathesis' own.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation.modes import GenerationMode

TOKEN = "fuzz-token"
CHECKS = [
    getattr(checks, name)
    for name in (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "unsupported_method",
        "ignored_auth",
    )
]
OPERATIONS = [
    "POST /v1/predict",
    "POST /v1/predict/batch",
    "GET /v1/model",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /",
]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}


def _api(url: str) -> tuple[str, schemathesis.BaseSchema]:
    return url, schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.fixture(scope="module")
def guarded(serve) -> tuple[str, schemathesis.BaseSchema]:
    """A server with a token: valid requests carry it, and Schemathesis checks that leaving it out is a 401."""
    return _api(serve(token=TOKEN, max_wait_ms=5.0, max_upload_mb=1.0))


@pytest.fixture(scope="module")
def open_api(serve) -> tuple[str, schemathesis.BaseSchema]:
    """A server without a token, for invalid requests (a token header sent with them would make some valid)."""
    return _api(serve(max_wait_ms=5.0, max_upload_mb=1.0))


def test_schema_lists_every_route(guarded, open_api) -> None:
    for _, schema in (guarded, open_api):
        assert {result.ok().label for result in schema.get_all_operations()} == set(OPERATIONS)


#: Negative cases need something to break: the routes with a query parameter or a body.
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in OPERATIONS if label.startswith("POST")
]


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode}" for label, mode in CASES])
def test_no_5xx_and_nothing_outside_the_schema(guarded, open_api, label: str, mode: GenerationMode) -> None:
    url, schema = guarded if mode == GenerationMode.POSITIVE else open_api
    headers = {"Authorization": f"Bearer {TOKEN}"} if mode == GenerationMode.POSITIVE else {}
    operation = schema.find_operation_by_label(label)

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

    fuzz()
    metrics = httpx.get(f"{url}/metrics", headers=headers).text
    assert 'status="5' not in metrics
