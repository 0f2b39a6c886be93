"""A seeded corpus of hostile image files, for fuzzing every surface that decodes images.

Used by the test suite (``lightship serve`` routes, ``lightship predict``, an image folder for training)
and by the serving soak in benchmarks/serve_load.py, so all of them face the same files:

- valid small images in PNG, JPEG, GIF, WebP, TIFF and BMP (the bases);
- each base mutated: random bit flips, truncations, random header bytes, and its declared width and
  height rewritten in the format's own header fields (zero, huge, extreme aspect ratios);
- pixel bombs: tiny files that declare hundreds of megapixels in each format, and one real 1 x 63,999,999
  PNG (an extreme aspect ratio just under the 64-megapixel decode guard, which runtimes' resize rejects).

Everything is derived from ``seed``: the same seed gives the same bytes, so a failure names a file that
can be rebuilt. Mutated files may happen to still be valid images; that is part of the point.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

#: Pillow format name and file suffix of each base.
FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp"}
#: Declared (width, height) pairs written into headers: zero, huge, extreme aspect ratios both ways.
DIMENSIONS = ((0, 0), (1, 60_000), (60_000, 1), (30_000, 30_000), (65_535, 65_535), (7_000, 7_000))

Sample = tuple[str, bytes]


def _base(fmt: str, rng: np.random.Generator) -> bytes:
    height, width = int(rng.integers(8, 40)), int(rng.integers(8, 40))
    ramp = np.add.outer(np.arange(height) * 5, np.arange(width) * 3)
    pixels = (ramp[:, :, None] + rng.integers(0, 40, (height, width, 3))).astype(np.uint8)
    image = Image.fromarray(pixels)
    if fmt == "GIF":
        image = image.convert("P")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, rows: bytes = b"\0" * 64, color_type: int = 0) -> bytes:
    """A PNG whose IHDR says ``width`` x ``height`` with ``rows`` (zlib-compressed) as its pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def _set_png(data: bytes, width: int, height: int) -> bytes:
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    return data[:8] + _png_chunk(b"IHDR", bytes(ihdr)) + data[33:]


def _set_jpeg(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    for marker in (b"\xff\xc0", b"\xff\xc2", b"\xff\xc1"):
        at = out.find(marker)
        if at >= 0:
            out[at + 5 : at + 9] = struct.pack(">HH", min(height, 65535), min(width, 65535))
            break
    return bytes(out)


def _set_gif(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    size = struct.pack("<HH", min(width, 65535), min(height, 65535))
    out[6:10] = size  # logical screen
    at = out.find(b"\x2c", 13)  # first image descriptor (after the global colour table, in Pillow's files)
    if at >= 0:
        out[at + 5 : at + 9] = size
    return bytes(out)


def _set_bmp(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    out[18:26] = struct.pack("<ii", width, height)
    return bytes(out)


def _set_webp(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    at = out.find(b"\x9d\x01\x2a")  # VP8 key frame start code, then 14-bit width and height
    if at >= 0:
        out[at + 3 : at + 7] = struct.pack("<HH", min(width, 16383), min(height, 16383))
    return bytes(out)


def _set_tiff(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    order = "<" if out[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", out[4:8])
    (count,) = struct.unpack(order + "H", out[ifd : ifd + 2])
    for entry in range(count):
        at = ifd + 2 + 12 * entry
        tag, kind = struct.unpack(order + "HH", out[at : at + 4])
        if tag in (256, 257):  # ImageWidth, ImageLength
            value = width if tag == 256 else height
            out[at + 8 : at + 12] = struct.pack(
                order + ("H" if kind == 3 else "I"), min(value, 65535 if kind == 3 else 2**32 - 1)
            ).ljust(4, b"\0")
    return bytes(out)


DIMENSION_SETTERS: dict[str, Callable[[bytes, int, int], bytes]] = {
    "PNG": _set_png,
    "JPEG": _set_jpeg,
    "GIF": _set_gif,
    "WEBP": _set_webp,
    "TIFF": _set_tiff,
    "BMP": _set_bmp,
}


def _flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        at = int(rng.integers(0, len(out)))
        out[at] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def _truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(0, len(data)))]


def _header_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        at = int(rng.integers(4, min(64, len(out))))
        out[at] = int(rng.choice([0, 0xFF, 0x7F, 0x80, int(rng.integers(0, 256))]))
    return bytes(out)


def pixel_bombs() -> list[Sample]:
    """Small files declaring far more pixels (or far wider shapes) than any limit allows, one per format,
    plus the real 1 x 63,999,999 PNG (about 190 KB compressed, 192 MB decoded)."""
    bombs = [("bomb-400mp.png", png_declaring(20_000, 20_000))]
    rng = np.random.default_rng(0)
    for fmt, suffix in FORMATS.items():
        bombs.append(
            (f"bomb-{fmt.lower()}.{suffix}", DIMENSION_SETTERS[fmt](_base(fmt, rng), 30_000, 30_000))
        )
    bombs.append(("strip-1x63999999.png", png_declaring(63_999_999, 1, b"\0" + bytes(63_999_999 * 3), 2)))
    return bombs


def hostile_images(seed: int = 0, variants: int = 4) -> list[Sample]:
    """The corpus: each format's base, ``variants`` of each mutation kind per base, every declared size
    of :data:`DIMENSIONS`, and :func:`pixel_bombs`. Names say what each file is."""
    rng = np.random.default_rng(seed)
    samples: list[Sample] = []
    for fmt, suffix in FORMATS.items():
        base = _base(fmt, rng)
        samples.append((f"{fmt.lower()}-valid.{suffix}", base))
        for kind, mutate in (("bitflip", _flip_bits), ("truncated", _truncate), ("header", _header_bytes)):
            samples.extend((f"{fmt.lower()}-{kind}-{i}.{suffix}", mutate(base, rng)) for i in range(variants))
        for width, height in DIMENSIONS:
            samples.append(
                (
                    f"{fmt.lower()}-declares-{width}x{height}.{suffix}",
                    DIMENSION_SETTERS[fmt](base, width, height),
                )
            )
    return samples + pixel_bombs()
