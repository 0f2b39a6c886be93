"""Test images in every format and mode the README lists, written the way users' files come.

Pillow writes most of them; the BMP variants Pillow cannot write (4-bit, 16-bit, bit fields, RLE,
top-down, OS/2 headers) and 16-bit RGB PNGs are written here byte by byte, because real files of those
kinds exist (Windows tools, scanners) and each decoder handles them differently.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ORIENTATION = 0x0112


def picture(width: int, height: int, seed: int) -> Image.Image:
    """A smooth picture (gradients and filled shapes) so lossy codecs behave as on photos."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height, 1)
    base = rng.integers(0, 256, 3)
    pixels = np.stack([(base[c] + 200 * (x if c % 2 else y)) % 256 for c in range(3)], axis=-1).astype(
        np.uint8
    )
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        box = (x0, y0, x0 + rng.integers(2, width // 2 + 3), y0 + rng.integers(2, height // 2 + 3))
        draw.ellipse(box, fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return image


def _alpha(image: Image.Image, seed: int) -> Image.Image:
    """RGBA with varied alpha, a fully transparent first row (its colours must survive: alpha is dropped)."""
    alpha = np.random.default_rng(seed).integers(0, 256, (image.height, image.width), dtype=np.uint8)
    alpha[0, :] = 0
    rgba = image.convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha))
    return rgba


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16(pixels: np.ndarray) -> bytes:
    """A 16-bit gray+alpha, RGB or RGBA PNG (2, 3 or 4 channels), which Pillow cannot write."""
    height, width, channels = pixels.shape
    color_type = {2: 4, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _bmp(
    width: int,
    height: int,
    bits: int,
    rows: list[bytes],
    *,
    palette: bytes = b"",
    compression: int = 0,
    masks: tuple[int, ...] = (),
    top_down: bool = False,
    data: bytes | None = None,
) -> bytes:
    """A BMP with a BITMAPINFOHEADER (masks follow it for BI_BITFIELDS); rows bottom-up unless top_down."""
    if data is None:
        stride = (width * bits + 31) // 32 * 4
        ordered = rows if top_down else rows[::-1]
        data = b"".join(row.ljust(stride, b"\x00") for row in ordered)
    extra = b"".join(struct.pack("<I", m) for m in masks)
    offset = 14 + 40 + len(extra) + len(palette)
    info = struct.pack(
        "<IiiHHIIiiII",
        40,
        width,
        -height if top_down else height,
        1,
        bits,
        compression,
        len(data),
        2835,
        2835,
        len(palette) // 4,
        0,
    )
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + extra + palette + data


def _bmp_os2(image: Image.Image) -> bytes:
    """An OS/2 1.x BMP (12-byte BITMAPCOREHEADER, 3-byte palette entries), 8-bit palette."""
    indexed = image.quantize(64)
    width, height = indexed.size
    raw = np.asarray(indexed)
    stride = (width + 3) // 4 * 4
    data = b"".join(raw[y].tobytes().ljust(stride, b"\x00") for y in range(height - 1, -1, -1))
    rgb = np.asarray(indexed.getpalette()[: 3 * 256] + [0] * (768 - len(indexed.getpalette()[:768]))).reshape(
        -1, 3
    )
    palette = rgb[:, ::-1].astype(np.uint8).tobytes()
    offset = 14 + 12 + len(palette)
    core = struct.pack("<IHHHH", 12, width, height, 1, 8)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + core + palette + data


def _bmp_variants(image: Image.Image) -> dict[str, bytes]:
    """The BMP kinds found in the wild that Pillow reads but does not write."""
    width, height = image.size
    rgb = np.asarray(image).astype(np.uint32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    p555 = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)
    p565 = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
    indexed = image.quantize(16)
    idx = np.asarray(indexed)
    pal = np.asarray(indexed.getpalette()[:48]).reshape(16, 3)
    palette16 = b"".join(bytes([c[2], c[1], c[0], 0]) for c in pal)
    nibbles = [
        bytes((int(row[i]) << 4) | (int(row[i + 1]) if i + 1 < width else 0) for i in range(0, width, 2))
        for row in idx
    ]
    indexed256 = image.quantize(200)
    idx8 = np.asarray(indexed256)
    pal8 = np.asarray(indexed256.getpalette()[:600]).reshape(200, 3)
    palette200 = b"".join(bytes([c[2], c[1], c[0], 0]) for c in pal8)
    bgra = np.dstack([rgb[..., 2], rgb[..., 1], rgb[..., 0], np.full_like(r, 7)]).astype(np.uint8)
    return {
        "bmp4_palette": _bmp(width, height, 4, nibbles, palette=palette16),
        "bmp8_palette200_topdown": _bmp(
            width, height, 8, [row.tobytes() for row in idx8], palette=palette200, top_down=True
        ),
        "bmp8_rle": _bmp(width, height, 8, [], palette=palette200, compression=1, data=_rle8(idx8)),
        "bmp16_555": _bmp(width, height, 16, [row.astype("<u2").tobytes() for row in p555]),
        "bmp16_565_bitfields": _bmp(
            width,
            height,
            16,
            [row.astype("<u2").tobytes() for row in p565],
            compression=3,
            masks=(0xF800, 0x07E0, 0x001F),
        ),
        "bmp32_bgrx_alpha_garbage": _bmp(width, height, 32, [row.tobytes() for row in bgra]),
        "bmp32_bitfields_alpha": _bmp(
            width,
            height,
            32,
            [row.tobytes() for row in bgra],
            compression=3,
            masks=(0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000),
        ),
        "bmp8_os2": _bmp_os2(image),
    }


def _rle8(idx: np.ndarray) -> bytes:
    """BI_RLE8 data, bottom-up: runs of equal indices, absolute runs otherwise, end-of-line and end-of-bitmap."""
    out = bytearray()
    for row in idx[::-1]:
        values = [int(v) for v in row]
        i = 0
        while i < len(values):
            run = 1
            while i + run < len(values) and run < 255 and values[i + run] == values[i]:
                run += 1
            if run >= 2 or len(values) - i < 3:
                out += bytes([run, values[i]])
                i += run
                continue
            literal = values[i : i + min(255, len(values) - i)]
            out += bytes([0, len(literal), *literal]) + (b"\x00" if len(literal) % 2 else b"")
            i += len(literal)
        out += b"\x00\x00"
    return bytes(out[:-2] + b"\x00\x01")


def _cmyk(image: Image.Image) -> Image.Image:
    """CMYK with real black (K = 255 - max(R, G, B)), as print workflows write; Pillow's own conversion has K = 0."""
    rgb = np.asarray(image).astype(np.int32)
    k = 255 - rgb.max(axis=-1, keepdims=True)
    cmy = np.where(k < 255, (255 - rgb - k) * 255 // np.maximum(255 - k, 1), 0)
    return Image.fromarray(np.concatenate([cmy, k], axis=-1).astype(np.uint8), mode="CMYK")


def _pillow_files(image: Image.Image, rgba: Image.Image) -> dict[str, tuple[Image.Image, dict]]:
    """name.ext -> (image, save options), for everything Pillow writes."""
    gray16 = Image.fromarray((np.asarray(image.convert("L"), np.uint16) * 257 + 77).astype(np.uint16))
    palette = image.quantize(64)
    files = {
        "png_rgb.png": (image, {}),
        "png_rgba.png": (rgba, {}),
        "png_gray.png": (image.convert("L"), {}),
        "png_gray_alpha.png": (rgba.convert("LA"), {}),
        "png_palette.png": (palette, {}),
        "png_palette_trns.png": (palette, {"transparency": 5}),
        "png_1bit.png": (image.convert("1"), {}),
        "png_gray16.png": (gray16, {}),
        "png_exif6.png": (image, {"exif": _exif(6)}),
        "jpg_rgb420.jpg": (image, {"quality": 90}),
        "jpg_rgb444.jpg": (image, {"quality": 90, "subsampling": 0}),
        "jpg_rgb422.jpg": (image, {"quality": 90, "subsampling": 1}),
        "jpg_progressive.jpg": (image, {"quality": 85, "progressive": True}),
        "jpg_gray.jpg": (image.convert("L"), {"quality": 90}),
        "jpg_cmyk.jpg": (_cmyk(image), {"quality": 90}),
        "bmp_rgb24.bmp": (image, {}),
        "bmp_palette8.bmp": (palette, {}),
        "bmp_gray8.bmp": (image.convert("L"), {}),
        "bmp_1bit.bmp": (image.convert("1"), {}),
        "bmp_rgba32.bmp": (rgba, {}),
        "webp_lossy.webp": (image, {"quality": 80}),
        "webp_lossless.webp": (image, {"lossless": True}),
        "webp_lossy_alpha.webp": (rgba, {"quality": 80}),
        "webp_lossless_alpha.webp": (rgba, {"lossless": True, "exact": True}),
        "webp_exif8.webp": (image, {"quality": 80, "exif": _exif(8)}),
        "gif_palette.gif": (palette, {}),
        "gif_transparent.gif": (palette, {"transparency": 3}),
        "gif_interlaced.gif": (palette, {"interlace": True}),
        "gif_gray.gif": (image.convert("L"), {}),
        "tif_rgb.tif": (image, {}),
        "tif_rgb_lzw.tif": (image, {"compression": "tiff_lzw"}),
        "tif_rgb_deflate.tif": (image, {"compression": "tiff_adobe_deflate"}),
        "tif_rgb_packbits.tif": (image, {"compression": "packbits"}),
        "tif_rgba.tif": (rgba, {}),
        "tif_gray.tif": (image.convert("L"), {}),
        "tif_gray16.tif": (gray16, {}),
        "tif_cmyk.tif": (_cmyk(image), {}),
        "tif_palette.tif": (palette, {}),
        "tif_exif3.tif": (image, {"exif": _exif(3)}),
    }
    for orientation in range(2, 9):
        files[f"jpg_exif{orientation}.jpg"] = (image, {"quality": 90, "exif": _exif(orientation)})
    return files


def write_corpus(folder: Path, width: int, height: int, seed: int) -> list[Path]:
    """Every listed format and mode of one picture of ``width x height`` into ``folder``; the file paths."""
    image = picture(width, height, seed)
    rgba = _alpha(image, seed)
    paths = []

    def path(name: str) -> Path:
        stem, ext = name.split(".")
        paths.append(folder / f"{stem}_{width}x{height}.{ext}")
        return paths[-1]

    for name, (img, options) in _pillow_files(image, rgba).items():
        img.save(path(name), **options)
    frames = [picture(width, height, seed + k).quantize(32) for k in range(3)]
    frames[0].save(path("gif_animated.gif"), save_all=True, append_images=frames[1:], duration=50, loop=0)
    rgb16 = np.asarray(image, np.uint16) * 257 + np.random.default_rng(seed).integers(
        0, 256, (height, width, 3)
    )
    path("png_rgb16.png").write_bytes(png16(rgb16.astype(np.uint16)))
    gray16_alpha = np.dstack([rgb16[..., 0], rgb16[..., 1]]).astype(np.uint16)
    path("png_gray16_alpha.png").write_bytes(png16(gray16_alpha))
    path("png_rgba16.png").write_bytes(
        png16(np.dstack([rgb16, np.full((height, width), 1000)]).astype(np.uint16))
    )
    for name, data in _bmp_variants(image).items():
        path(f"{name}.bmp").write_bytes(data)
    return paths
