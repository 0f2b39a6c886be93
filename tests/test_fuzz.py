"""The hostile image corpus is what it claims (seeded, every format and kind), and the one decoding
policy meets it, and any bit-level mutation Hypothesis finds, with nothing but ImageDecodeError."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from lightship.fuzz import FORMATS, hostile_images, pixel_bombs
from lightship.images import (
    ImageDecodeError,
    ImageTooLarge,
    PixelLimits,
    check_size,
    decode_image,
    image_size,
)

CORPUS = hostile_images()
BASES = {name: data for name, data in CORPUS if "-valid." in name}


def test_corpus_is_seeded_and_covers_every_format_and_kind() -> None:
    assert hostile_images() == CORPUS and hostile_images(seed=1) != CORPUS
    names = [name for name, _ in CORPUS]
    assert len(set(names)) == len(names)
    for suffix in FORMATS.values():
        for kind in ("valid", "bitflip", "truncated", "header", "declares-30000x30000", "declares-1x60000"):
            assert any(name.endswith(f".{suffix}") and f"-{kind}" in name for name in names), (kind, suffix)
    for name, data in BASES.items():  # the bases are real images of their format
        assert Image.open(io.BytesIO(data)).format.lower() in name.replace("jpg", "jpeg").replace(
            "tif", "tiff"
        )


@pytest.mark.parametrize(("name", "data"), CORPUS, ids=[name for name, _ in CORPUS])
def test_decode_policy_meets_the_corpus(name: str, data: bytes) -> None:
    limits = PixelLimits()
    try:
        width, height = image_size(data, name)
        check_size(width, height, limits, name)
    except ImageTooLarge as exc:  # refused by header: decoding refuses it the same way, decoding nothing
        assert exc.limit in ("max_pixels", "max_aspect") and exc.source == name
        with pytest.raises(ImageTooLarge):
            decode_image(data, name, limits=limits)
        return
    except ImageDecodeError:
        width = height = None
    try:
        pixels = decode_image(data, name, limits=limits)
    except ImageDecodeError as exc:
        assert exc.source == name and exc.reason
        return
    assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
    if width is not None:  # the header told the truth about what decoding made
        assert pixels.shape[:2] == (height, width)


def test_bombs_are_refused_by_header_naming_the_limit() -> None:
    for name, data in pixel_bombs():
        with pytest.raises(ImageTooLarge) as refused:
            check_size(*image_size(data, name), PixelLimits(), name)
        assert refused.value.limit in ("max_pixels", "max_aspect"), name
    strip = dict(pixel_bombs())["strip-1x63999999.png"]
    assert image_size(strip, "strip") == (63_999_999, 1)
    with pytest.raises(ImageTooLarge, match="aspect ratio") as refused:
        check_size(63_999_999, 1, PixelLimits(), "strip")
    assert refused.value.value == 63_999_999 and refused.value.allowed == 50


def test_artifact_bound_is_a_hard_cap() -> None:
    limits = PixelLimits(max_pixels=100_000_000, max_aspect=50).capped({"height": 4000, "width": 3000})
    assert limits.max_pixels == 12_000_000 and (limits.max_height, limits.max_width) == (4000, 3000)
    check_size(3000, 4000, limits, "fits")
    with pytest.raises(ImageTooLarge) as refused:
        check_size(4000, 3000, limits, "turned")
    assert refused.value.limit == "max_width" and refused.value.value == 4000
    assert PixelLimits(max_pixels=10).capped(None) == PixelLimits(max_pixels=10)
    assert PixelLimits(max_pixels=10).capped({"height": 100, "width": 100}).max_pixels == 10


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(sorted(BASES)),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1, max_size=12),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_any_mutation_is_decoded_or_refused_by_name(
    base: str, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(BASES[base])
    for at, bit in flips:
        data[at % len(data)] ^= 1 << bit
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    for limits in (None, PixelLimits()):
        try:
            pixels = decode_image(bytes(data), base, limits=limits)
        except ImageDecodeError as exc:
            assert exc.source == base
        else:
            assert pixels.dtype == np.uint8 and pixels.shape[2] == 3
