"""The one query-parameter parser: ASCII digits in range or a 422 naming the parameter, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightship.serve.params import TOP_K, IntParam
from lightship.serve.problems import ServeError


def test_default_and_bounds() -> None:
    assert TOP_K.parse({}) == 5
    assert TOP_K.parse({"top_k": "1"}) == 1 and TOP_K.parse({"top_k": "1000"}) == 1000
    assert TOP_K.parse({"top_k": "007"}) == 7


@pytest.mark.parametrize(
    "raw",
    ["0", "1001", "-1", "+3", "²", "٣", "3.0", "1e2", " 5", "5 ", "", "five", "9" * 40, "0x10", "5\x00"],
)
def test_anything_else_is_a_422_naming_the_parameter(raw: str) -> None:
    with pytest.raises(ServeError) as refused:
        TOP_K.parse({"top_k": raw})
    assert refused.value.status == 422 and refused.value.code == "invalid_parameter"
    assert "top_k" in refused.value.message and "1 to 1000" in refused.value.message


def test_schema_states_the_parser_range() -> None:
    schema = TOP_K.openapi()["schema"]
    assert (schema["type"], schema["minimum"], schema["maximum"], schema["default"]) == (
        "integer",
        1,
        1000,
        5,
    )


@settings(max_examples=300, derandomize=True)
@given(st.text(max_size=20))
def test_any_text_parses_in_range_or_is_refused(raw: str) -> None:
    param = IntParam("n", 1, 1, 50, "a number")
    try:
        value = param.parse({"n": raw})
    except ServeError as refused:
        assert refused.status == 422
    else:
        assert 1 <= value <= 50 and raw.isascii() and int(raw) == value


@settings(max_examples=100, derandomize=True)
@given(st.integers(1, 1000))
def test_every_integer_the_schema_allows_parses(value: int) -> None:
    assert TOP_K.parse({"top_k": str(value)}) == value
