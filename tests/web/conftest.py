"""Fixtures for the web app and Node runner tests: a small TRAINED model exported as a bundle, test images in
every format and mode the README lists (corpus.py), Python's pixels and probabilities for them, the built site
served on a free loopback port, and checks that the tools exist.

Missing tools skip these tests with one line naming the command that installs them (tests/conftest.py's
``web_tools``); CI sets LIGHTSHIP_REQUIRE_ALL_TESTS=1, which turns that skip into a failure."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lightship.export import export_bundle
from lightship.images import decode_image
from lightship.web import build_site

from .corpus import write_corpus
from .support import REPO, serving

CHROMIUM = Path("/usr/bin/chromium")
#: (width, height, seed) of the corpus pictures: odd sizes (chroma subsampling and BMP row padding edges)
#: and a larger one that the model downscales.
CORPUS_SIZES = ((37, 23, 1), (300, 200, 2))


@pytest.fixture(scope="session")
def node(web_tools: None) -> str:
    return str(shutil.which("node"))


@pytest.fixture(scope="session")
def node_runner(node: str) -> str:
    return node  # web_tools (through node) checked node/node_modules


@pytest.fixture(scope="session")
def web_dist(web_tools: None) -> Path:
    return REPO / "web" / "dist"


@pytest.fixture(scope="session")
def chromium(web_tools: None) -> Path:
    return CHROMIUM


#: What the page runs: ``web-litert`` in LiteRT.js (its pixels graph in onnxruntime-web, its .tflite in LiteRT.js,
#: the default on WebAssembly), ``onnx`` on WebAssembly (?backend=wasm, and the fallback); on WebGPU (whose
#: kernels refuse the antialiased Resize) the matrix-product-resize graphs, fp16 where the adapter has
#: 'shader-f16', else fp32 (web/src/app.js). web-litert needs the ``litert`` extra (installed in CI).
WEB_FORMATS = ["onnx", "onnx-webgpu", "onnx-fp16", "web-litert"]


@pytest.fixture(scope="session")
def bundle(built_once: Callable[[str, Callable[[Path], None]], Path]) -> Path:  # tests/conftest.py
    """airbench trained for 3 epochs on scikit-learn's digits (~97% test accuracy, ~20 s), exported and
    verified in the formats the page runs (WEB_FORMATS).

    Trained, so its probabilities move with the pixels: a one-level change of one channel moves them by more
    than the parity thresholds (test_browser.py checks that on every test image)."""
    from lightship.data.config import AugmentConfig, DataConfig
    from lightship.training import ModelConfig, OptimConfig, TrainConfig, load_classifier, train

    def build(root: Path) -> None:
        config = TrainConfig(
            data=DataConfig(
                source="digits", batch_size=64, cache_dir=root / "cache", augment=AugmentConfig(flip="none")
            ),
            model=ModelConfig(name="airbench", kwargs={"widths": [16, 32, 32], "bn_eps": 1e-5}),
            optim=OptimConfig(
                lr=0.2, momentum=0.9, norm_lr_scale=4.0, warmup_fraction=0.2, final_factor=0.05
            ),
            trainer={"max_epochs": 3, "enable_progress_bar": False, "enable_model_summary": False},
            out=root / "run",
        )
        classifier, meta = load_classifier(train(config).run_dir)
        # Verified on the run's data (the page and the Node runner refuse an unverified artifact).
        export_bundle(classifier.eval(), meta, root / "bundle", formats=WEB_FORMATS)

    return built_once("web-digits", build) / "bundle"


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("images")
    return sorted(path for w, h, seed in CORPUS_SIZES for path in write_corpus(folder, w, h, seed))


@dataclass(frozen=True)
class Reference:
    """Python's answer for one file: decoded pixels, probabilities, and how far a one-level change of one
    colour channel moves the probabilities (the smallest over the three channels)."""

    pixels: np.ndarray
    probs: np.ndarray
    one_level_shift: float


def _one_level(pixels: np.ndarray, channel: int) -> np.ndarray:
    """Every pixel's ``channel`` moved by one level (+1, or -1 where it is 255)."""
    shifted = pixels.astype(np.int16)
    plane = shifted[..., channel]
    shifted[..., channel] = np.where(plane < 255, plane + 1, plane - 1)
    return shifted.astype(np.uint8)


def python_reference(bundle: Path, images: list[Path], format: str) -> dict[str, Reference]:
    """file name -> Python's pixels (lightship.images) and probabilities with the ``format`` artifact for the
    same files (its runtime: ONNX Runtime; for web-litert, ONNX Runtime and LiteRT)."""
    from lightship.runtime import load

    predictor = load(bundle, format=format)
    out = {}
    for path in images:
        pixels = decode_image(path)
        probs = predictor.predict_probs([pixels])[0]
        shifts = [np.abs(predictor.predict_probs([_one_level(pixels, c)])[0] - probs).max() for c in range(3)]
        out[path.name] = Reference(pixels, probs, float(min(shifts)))
    return out


@pytest.fixture(scope="session")
def reference(bundle: Path, images: list[Path]) -> dict[str, Reference]:
    """Python's answers with the ``onnx`` artifact (the page's on WebAssembly)."""
    return python_reference(bundle, images, "onnx")


@pytest.fixture(scope="session")
def litert_reference(bundle: Path, images: list[Path]) -> dict[str, Reference]:
    """Python's answers with the ``web-litert`` artifact (the page's default on WebAssembly, LiteRT.js)."""
    return python_reference(bundle, images, "web-litert")


@pytest.fixture(scope="session")
def site_url(bundle: Path, web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(build_site(bundle, tmp_path_factory.mktemp("site") / "site")) as url:
        yield url
