"""Fixtures for the web app and Node runner tests: a small exported bundle, test images of several
modes and sizes, the built site served on a free loopback port, and checks that the tools exist.

Missing tools make the tests FAIL with the command that installs them; they are never skipped."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lightship.export import export_bundle
from lightship.models import ModelMeta
from lightship.web import build_site

from .support import LABELS, REPO, serving

CHROMIUM = Path("/usr/bin/chromium")
SIZES = ((32, 32), (7, 50), (300, 200))


def _require(ok: bool, message: str) -> None:
    if not ok:
        pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    _require(path is not None, "node is not installed: install Node.js 20+ (apt-get install -y nodejs npm)")
    return str(path)


@pytest.fixture(scope="session")
def node_runner(node: str) -> str:
    """``node``, once the Node runner's packages are installed."""
    _require(
        (REPO / "node/node_modules/onnxruntime-node").is_dir(),
        "the Node runner's packages are missing: run `ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix node` "
        "(make test does)",
    )
    return node


@pytest.fixture(scope="session")
def web_dist() -> Path:
    dist = REPO / "web" / "dist"
    _require(
        (dist / "index.html").is_file() and (REPO / "web/node_modules/playwright-core").is_dir(),
        "the web app is not built: run `npm ci --prefix web && npm run build --prefix web` (make test does)",
    )
    return dist


@pytest.fixture(scope="session")
def chromium() -> Path:
    _require(
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does)",
    )
    return CHROMIUM


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained airbench (fixed seed, head scaled so classes are well apart) exported as ONNX."""
    torch.manual_seed(0)
    meta = ModelMeta("airbench", 10, LABELS, 32, [0.4914, 0.4822, 0.4465], [0.247, 0.2435, 0.2616])
    classifier = meta.build().eval()
    head = [m for m in classifier.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        head.weight.mul_(40.0)
    out, _ = export_bundle(classifier, meta, tmp_path_factory.mktemp("bundle") / "b", formats=["onnx"])
    return out


def _picture(width: int, height: int, seed: int) -> Image.Image:
    """A smooth picture (gradient and shapes) so JPEG artefacts stay realistic."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
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


def _write_images(folder: Path) -> None:
    seed = 0
    for width, height in SIZES:
        for mode in ("RGB", "L", "RGBA", "P"):
            seed += 1
            image = _picture(width, height, seed)
            if mode == "RGBA":  # varied alpha, including fully transparent pixels
                alpha = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
                alpha[0, :] = 0
                image.putalpha(Image.fromarray(alpha))
            elif mode == "P":
                image = image.quantize(32)
            else:
                image = image.convert(mode)
            image.save(folder / f"{mode.lower()}_{width}x{height}.png")
            if mode in ("RGB", "L"):
                image.save(folder / f"{mode.lower()}_{width}x{height}.jpg", quality=90)
    gray16 = (np.linspace(0, 65535, 24 * 40).reshape(24, 40)).astype(np.uint16)
    Image.fromarray(gray16).save(folder / "gray16_40x24.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees clockwise to display
    _picture(40, 24, 99).save(folder / "exif6_40x24.jpg", quality=90, exif=exif)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("images")
    _write_images(folder)
    return sorted(folder.iterdir())


@pytest.fixture(scope="session")
def python_predictions(bundle: Path, images: list[Path]) -> dict[str, np.ndarray]:
    """file name -> probabilities from Python ONNX Runtime on the same files."""
    from lightship.runtime import load

    predictor = load(bundle, runtime="onnxruntime")
    probs = predictor.predict_probs(images)
    return {path.name: row for path, row in zip(images, probs, strict=True)}


@pytest.fixture(scope="session")
def site_url(bundle: Path, web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(build_site(bundle, tmp_path_factory.mktemp("site") / "site")) as url:
        yield url
