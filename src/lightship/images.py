"""The one image-decoding policy of lightship, shared by training data and every deployment surface.

Why one module: the classic bug when a model leaves Python is a platform that prepares images
differently. Decoding is the only step outside the model (resizing and normalisation live inside it,
see :mod:`lightship.models.classifier`), so it is defined here once:

- any format Pillow reads (JPEG, PNG, BMP, WebP, GIF first frame, TIFF, ...);
- EXIF orientation applied;
- grayscale, RGBA (alpha dropped, not composited), palette, CMYK and 16-bit images become 8-bit RGB;
- result: a ``uint8`` array ``H x W x 3``.

Bad input raises :class:`ImageDecodeError` that names the source and the reason.

Budgets before work: :func:`image_size` reads an image's dimensions from its header (Pillow's lazy open
decodes no pixel) and :func:`check_size` refuses them against :class:`PixelLimits` (pixels, aspect ratio,
an artifact's own input bound) with :class:`ImageTooLarge`, which names the limit and the value. Servers
call both before decoding; ``decode_image(..., limits=...)`` applies the same check to its input.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from struct import error as struct_error

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

#: File extensions lightship treats as images when walking folders (lower case, with dot).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"})

#: Refuse images with more pixels than this (decompression bombs). 8k x 8k RGB is ~200 MB decoded.
MAX_PIXELS = 64_000_000

ImageInput = str | Path | bytes | bytearray | memoryview | Image.Image | np.ndarray


class ImageDecodeError(ValueError):
    """An image could not be turned into RGB pixels; ``source`` and ``reason`` say which and why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ImageTooLarge(ImageDecodeError):
    """The header declares a size beyond a :class:`PixelLimits` budget: ``limit`` names which, ``value`` is
    the image's figure and ``allowed`` the limit's."""

    def __init__(self, source: str, limit: str, value: float, allowed: float, detail: str) -> None:
        super().__init__(source, detail)
        self.limit = limit
        self.value = value
        self.allowed = allowed


@dataclass(frozen=True)
class PixelLimits:
    """Size budgets checked from an image's header, before any pixel is decoded.

    ``max_pixels``: width x height (100 MP by default, so today's phone photos pass); ``max_aspect``: the
    longer side over the shorter (50:1; a 1 x 64,000,000 strip is no photo and breaks runtimes' resize);
    ``max_height``/``max_width``: an artifact's own input bound, None when it has none.
    """

    max_pixels: int = 100_000_000
    max_aspect: float = 50.0
    max_height: int | None = None
    max_width: int | None = None

    def capped(self, bound: dict | None) -> PixelLimits:
        """These limits under an artifact's ``{"height": H, "width": W}`` bound (a hard cap; None = none)."""
        if not bound:
            return self
        height, width = int(bound["height"]), int(bound["width"])
        return PixelLimits(
            min(self.max_pixels, height * width),
            self.max_aspect,
            min(height, self.max_height or height),
            min(width, self.max_width or width),
        )


#: EXIF orientations that swap width and height when applied (transpose, rotate 90/270, transverse).
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


#: What Pillow raises on broken files besides UnidentifiedImageError (its plugins are not uniform).
_BROKEN = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct_error)


def _parse(data: bytes, source: str, strict_bombs: bool) -> Image.Image:
    """Pillow's lazy open (header only) with its failures as ImageDecodeError naming ``source``;
    ``strict_bombs``: Pillow's decompression-bomb warning (over 89 MP) refuses the image too."""
    if len(data) == 0:
        raise ImageDecodeError(source, "empty file (0 bytes)")
    try:
        if not strict_bombs:  # the caller checks sizes itself (and catch_warnings costs a visible share
            return Image.open(io.BytesIO(data))  # of a small image's decode in the server)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own guard (over 2 x MAX_IMAGE_PIXELS)
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageTooLarge(
            source,
            "max_pixels",
            int(declared.group(1)) if declared else float("inf"),
            Image.MAX_IMAGE_PIXELS * 2,
            f"image too large (decompression bomb): {exc}",
        ) from exc
    except Image.DecompressionBombWarning as exc:
        raise ImageDecodeError(source, f"image too large (decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(source, "not an image, or a format Pillow cannot read") from exc
    except _BROKEN as exc:
        raise ImageDecodeError(source, f"corrupt or truncated image: {exc}") from exc


def displayed_size(image: Image.Image, source: str) -> tuple[int, int]:
    """``(width, height)`` of an opened image once EXIF orientation is applied, without decoding.

    EXIF is looked up where the header holds it; a PNG's eXIf chunk after the pixel data is not (looking
    there means decoding), so :func:`finish_decode` checks the decoded shape again.
    """
    width, height = image.size
    try:
        header_exif = image.format != "PNG" or "exif" in image.info
        if header_exif and image.getexif().get(ExifTags.Base.Orientation, 1) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    except _BROKEN as exc:
        raise ImageDecodeError(source, f"corrupt image header: {exc}") from exc
    return width, height


def image_size(data: bytes, source: str) -> tuple[int, int]:
    """``(width, height)`` as :func:`decode_image` would return them, read from the header only
    (Pillow's ``Image.open`` parses the header and decodes nothing)."""
    return displayed_size(_parse(data, source, strict_bombs=False), source)


def open_image(data: bytes, source: str, limits: PixelLimits | None = None) -> Image.Image:
    """The image with its header read and its size checked, nothing decoded yet (see :func:`finish_decode`).

    With ``limits``: :func:`check_size`. Without: the fixed :data:`MAX_PIXELS` guard and Pillow's own.
    """
    try:
        image = _parse(data, source, strict_bombs=limits is None)
    except ImageTooLarge as exc:  # Pillow's own guard fired first: say it against the caller's limit
        if limits is None or exc.value == float("inf"):
            raise
        raise ImageTooLarge(
            source,
            "max_pixels",
            exc.value,
            limits.max_pixels,
            f"{exc.value:,} pixels exceeds the limit of {limits.max_pixels:,}",
        ) from exc
    width, height = displayed_size(image, source)
    if limits is not None:
        check_size(width, height, limits, source)
    elif width * height > MAX_PIXELS:
        raise ImageDecodeError(
            source, f"{width}x{height} pixels exceeds the limit of {MAX_PIXELS:,} (decompression bomb?)"
        )
    return image


def finish_decode(image: Image.Image, source: str, limits: PixelLimits | None = None) -> np.ndarray:
    """Decode an image from :func:`open_image` into ``uint8`` RGB ``H x W x 3``; the decoded shape is
    checked against ``limits`` again (EXIF orientation may sit past the header)."""
    try:
        image.load()
        pixels = to_rgb_array(image)
    except _BROKEN as exc:
        raise ImageDecodeError(source, f"corrupt or truncated image: {exc}") from exc
    if limits is not None:
        check_size(pixels.shape[1], pixels.shape[0], limits, source)
    return pixels


def check_size(width: int, height: int, limits: PixelLimits, source: str) -> None:
    """Raise :class:`ImageTooLarge` naming the first limit ``width`` x ``height`` exceeds."""
    pixels = width * height
    if width < 1 or height < 1:
        raise ImageDecodeError(source, f"{width}x{height} pixels: an image needs at least one pixel")
    if pixels > limits.max_pixels:
        raise ImageTooLarge(
            source,
            "max_pixels",
            pixels,
            limits.max_pixels,
            f"{width}x{height} = {pixels:,} pixels exceeds the limit of {limits.max_pixels:,}",
        )
    aspect = max(width, height) / min(width, height)
    if aspect > limits.max_aspect:
        raise ImageTooLarge(
            source,
            "max_aspect",
            round(aspect, 2),
            limits.max_aspect,
            f"{width}x{height} has an aspect ratio of {aspect:.4g}:1, beyond the limit of "
            f"{limits.max_aspect:g}:1",
        )
    for name, value, bound in (
        ("max_height", height, limits.max_height),
        ("max_width", width, limits.max_width),
    ):
        if bound is not None and value > bound:
            raise ImageTooLarge(
                source,
                name,
                value,
                bound,
                f"{width}x{height}: {name.removeprefix('max_')} {value:,} exceeds the model's "
                f"input bound of {bound:,}",
            )


def is_image_file(path: Path) -> bool:
    """True for a visible file with an image extension (hidden files and others are ignored)."""
    return not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def iter_image_files(root: Path) -> Iterable[Path]:
    """All image files below ``root`` in sorted order, skipping hidden files and folders."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and is_image_file(path):
            yield path


#: Rows converted to the output array at a time (see :func:`to_rgb_array`).
STRIP_ROWS = 256


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Apply EXIF orientation and convert any Pillow mode to ``uint8`` RGB ``H x W x 3``.

    Memory: the result is filled a strip of rows at a time, so a large image never exists as more than
    Pillow's own copy plus the result (converting it whole would add a converted copy and a bytes copy,
    about 2.4x the result's size on top). Orientation is applied in place for the same reason. The
    pixels are the same either way: mode conversion is per pixel.
    """
    if isinstance(image, Image.Image) and image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
        image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16/32-bit grayscale: scale to 8 bits instead of letting Pillow clip at 255.
        arr = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        image = Image.fromarray(arr, mode="L")
    width, height = image.size
    out = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, STRIP_ROWS):
        strip = image.crop((0, top, width, min(top + STRIP_ROWS, height)))
        out[top : top + STRIP_ROWS] = np.asarray(strip if strip.mode == "RGB" else strip.convert("RGB"))
    return out


def decode_image(
    image: ImageInput, source: str | None = None, limits: PixelLimits | None = None
) -> np.ndarray:
    """Decode a path, raw bytes, a PIL image or an array into ``uint8`` RGB ``H x W x 3``.

    Arrays are accepted as ``H x W`` (gray), ``H x W x 1/3/4``; float arrays must already be in 0..255.
    ``limits`` (files and bytes): refuse by header before decoding, with :class:`ImageTooLarge`, instead
    of the fixed :data:`MAX_PIXELS` guard; the decoded shape is checked again (EXIF may sit past the header).
    """
    if isinstance(image, (str, Path)):
        path = Path(image)
        name = source or str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ImageDecodeError(name, "file not found") from exc
        except IsADirectoryError as exc:
            raise ImageDecodeError(name, "is a directory, not an image file") from exc
        except OSError as exc:
            raise ImageDecodeError(name, f"cannot read file: {exc.strerror or exc}") from exc
        return finish_decode(open_image(data, name, limits), name, limits)
    if isinstance(image, (bytes, bytearray, memoryview)):
        name = source or "<bytes>"
        return finish_decode(open_image(bytes(image), name, limits), name, limits)
    if isinstance(image, Image.Image):
        return to_rgb_array(image)
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, source or "<array>")
    raise ImageDecodeError(source or repr(type(image)), f"unsupported input type {type(image).__name__}")


def _array_to_rgb(arr: np.ndarray, source: str) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageDecodeError(source, f"array of shape {arr.shape} is not an H x W x {{1,3,4}} image")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.number):
            raise ImageDecodeError(source, f"array dtype {arr.dtype} is not numeric")
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])
