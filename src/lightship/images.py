"""The one image-decoding policy of lightship, shared by training data and every deployment surface.

Why one module: the classic bug when a model leaves Python is a platform that prepares images
differently. Decoding is the only step outside the model (resizing and normalisation live inside it,
see :mod:`lightship.models.classifier`), so it is defined here once:

- any format Pillow reads (JPEG, PNG, BMP, WebP, GIF first frame, TIFF, ...);
- EXIF orientation applied;
- grayscale, RGBA (alpha dropped, not composited), palette, CMYK and 16-bit images become 8-bit RGB;
- result: a ``uint8`` array ``H x W x 3``.

Bad input raises :class:`ImageDecodeError` that names the source and the reason.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

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


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Apply EXIF orientation and convert any Pillow mode to ``uint8`` RGB ``H x W x 3``."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16/32-bit grayscale: scale to 8 bits instead of letting Pillow clip at 255.
        arr = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        image = Image.fromarray(arr, mode="L")
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8).copy()


def _open(data: bytes, source: str) -> Image.Image:
    if len(data) == 0:
        raise ImageDecodeError(source, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageDecodeError(
                    source,
                    f"{width}x{height} pixels exceeds the limit of {MAX_PIXELS:,} (decompression bomb?)",
                )
            image.load()
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(source, f"image too large (decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(source, "not an image, or a format Pillow cannot read") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(source, f"corrupt or truncated image: {exc}") from exc
    return image


def decode_image(image: ImageInput, source: str | None = None) -> np.ndarray:
    """Decode a path, raw bytes, a PIL image or an array into ``uint8`` RGB ``H x W x 3``.

    Arrays are accepted as ``H x W`` (gray), ``H x W x 1/3/4``; float arrays must already be in 0..255.
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
        return to_rgb_array(_open(data, name))
    if isinstance(image, (bytes, bytearray, memoryview)):
        name = source or "<bytes>"
        return to_rgb_array(_open(bytes(image), name))
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
