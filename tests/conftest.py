"""Shared fixtures. Tests make their own small data; nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits

# Keep the two cores of the CI machine for the test processes themselves.
os.environ.setdefault("OMP_NUM_THREADS", "2")

REPO = Path(__file__).resolve().parents[1]
#: CI sets it (.ci/run): a missing tool or optional extra then FAILS the tests that need it instead of skipping them.
REQUIRE_ALL = "LIGHTSHIP_REQUIRE_ALL_TESTS"
#: The one command that installs and builds what the web, Node and browser tests need.
WEB_TOOLS_COMMAND = "make test` as root on Debian/Ubuntu (it installs Chromium, Node.js and npm from the distribution and builds web/ and node/)"


WEB_SKIP_NOTE = pytest.StashKey[str]()


def missing_web_tools() -> list[str]:
    """What the browser, Node-runner and web-app tests need and this machine lacks."""
    needs = {
        "chromium": Path("/usr/bin/chromium").exists(),
        "node": shutil.which("node") is not None,
        "the built web app (web/dist)": (REPO / "web" / "dist" / "index.html").is_file()
        and (REPO / "web" / "node_modules" / "playwright-core").is_dir(),
        "the Node runner's packages (node/node_modules)": (
            REPO / "node" / "node_modules" / "onnxruntime-node"
        ).is_dir(),
    }
    return [name for name, present in needs.items() if not present]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, Node.js or the npm builds, the tests that need them (those using ``web_tools``) are
    not run, and one line at the end says which and how to enable them; with LIGHTSHIP_REQUIRE_ALL_TESTS=1
    (CI) they run and fail instead.

    ``make test`` runs two pytest-xdist workers (``--dist loadgroup``): the docs test (~9 minutes of
    commands, each its own process) on one, every other test on the other, so the session fixtures (the
    trained and exported digits run) are built once. The docs test is collected first, so that it starts at
    once rather than after a share of the suite."""

    def alone(item: pytest.Item) -> bool:
        return item.path.name == "test_docs.py" and item.name == "test_every_snippet_of_the_docs_runs"

    for item in items:
        item.add_marker(pytest.mark.xdist_group("docs" if alone(item) else "suite"))
    items.sort(key=lambda item: not alone(item))  # stable: the others keep their order
    missing = skipped_web_tools()
    needing = [item for item in items if "web_tools" in getattr(item, "fixturenames", ())]
    if missing and needing:
        items[:] = [item for item in items if "web_tools" not in getattr(item, "fixturenames", ())]
        config.hook.pytest_deselected(items=needing)
        config.stash[WEB_SKIP_NOTE] = _skip_note(f"{len(needing)} web, Node and browser tests", missing)


def skipped_web_tools() -> list[str]:
    """The missing web tools when their tests are to be left out (never under LIGHTSHIP_REQUIRE_ALL_TESTS=1)."""
    return [] if os.environ.get(REQUIRE_ALL) == "1" else missing_web_tools()


def _skip_note(what: str, missing: list[str]) -> str:
    return f"skipped {what}: they need {', '.join(missing)}; run `{WEB_TOOLS_COMMAND} to enable them"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    note = config.stash.get(WEB_SKIP_NOTE, None)
    missing = skipped_web_tools()
    if not note and missing:  # under xdist the workers collected, so this process has no count
        note = _skip_note("the web, Node and browser tests", missing)
    if note:
        terminalreporter.write_line(note, yellow=True)


@pytest.fixture(scope="session")
def web_tools() -> None:
    """What the web, Node and browser tests depend on; reached with tools missing only when CI forbids the
    skip (see pytest_collection_modifyitems), and then it fails with the command that installs them."""
    missing = missing_web_tools()
    if missing:
        pytest.fail(
            f"these tests need {', '.join(missing)} ({REQUIRE_ALL}=1 forbids skipping them): run "
            f"`{WEB_TOOLS_COMMAND}",
            pytrace=False,
        )


#: Largest input of the formats that plan memory for one, in the shared bundle: small, so LiteRT's static
#: canvas (one image per call, resized as a dense product over the whole canvas) stays cheap.
DIGITS_MAX_INPUT = 128


def require_format(bundle: Path, name: str) -> dict:
    """The manifest entry of ``name`` in ``bundle``; when ``--formats all`` skipped it (its optional
    dependency is missing): a skip naming the pip command, or a failure under LIGHTSHIP_REQUIRE_ALL_TESTS=1 (CI)."""
    from lightship.bundle.manifest import read_manifest

    manifest = read_manifest(bundle)
    for artifact in manifest["artifacts"]:
        if artifact["format"] == name:
            return artifact
    reason = next(s["reason"] for s in manifest["skipped_formats"] if s["format"] == name)
    if os.environ.get(REQUIRE_ALL) == "1":  # CI: an extra that did not install cannot pass unnoticed
        pytest.fail(f"{name} was not exported and {REQUIRE_ALL}=1: {reason}", pytrace=False)
    pytest.skip(f"{name} not exported: {reason}")


def odd_images() -> list:
    """Digits 0-9 upscaled to sizes the model was not trained on, plus gray, RGBA and extreme shapes."""
    digits = load_digits()
    images: list = []
    for label, size in zip(range(10), [(37, 23), (9, 61), (5, 5), (120, 80), (33, 33)] * 2, strict=True):
        pixels = (digits.images[list(digits.target).index(label)] * (255 / 16)).astype(np.uint8)
        images.append(Image.fromarray(pixels, mode="L").resize(size, Image.Resampling.BILINEAR))
    rng = np.random.default_rng(1)
    images += [
        Image.fromarray(rng.integers(0, 256, (20, 50, 4), dtype=np.uint8), mode="RGBA"),
        rng.integers(0, 256, (1, 1, 3), dtype=np.uint8),
        rng.integers(0, 256, (20, 3000, 3), dtype=np.uint8),
    ]
    return images


#: ``built_once(name, build)`` (the fixture below): the folder ``build`` filled, once per test run.
BuiltOnce = Callable[[str, Callable[[Path], None]], Path]


@pytest.fixture(scope="session")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> BuiltOnce:
    """``built_once(name, build)``: ``build(folder)`` once per test run, not once per pytest-xdist worker. The
    first worker that asks builds ``name`` in the run's shared temporary folder while the others wait on a file
    lock, then all read it (the pytest-xdist recipe). Why: each worker has its own session fixtures, and on two
    cores the digits bundle (80 s) and the web tests' bundle (20-40 s) were built twice. Users only read it."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # pytest-N/, above each worker's popen-gwK/

    def built(name: str, build: Callable[[Path], None]) -> Path:
        folder = root / name
        with FileLock(f"{folder}.lock"):
            if not (root / f"{name}.built").exists():
                shutil.rmtree(folder, ignore_errors=True)  # what a worker that failed half-way left
                build(folder)
                (root / f"{name}.built").touch()
        return folder

    return built


@pytest.fixture(scope="session")
def digits_run(built_once: BuiltOnce) -> Path:
    """A run folder: a small airbench trained 3 epochs on scikit-learn's digits (about 97% test accuracy),
    so its answers depend on its input. Shared by the conformance tests of formats and runtimes."""
    from lightship.data.config import AugmentConfig, DataConfig
    from lightship.training import ModelConfig, OptimConfig, TrainConfig, train

    def build(out: Path) -> None:
        config = TrainConfig(
            data=DataConfig(source="digits", batch_size=64, augment=AugmentConfig(flip="none")),
            model=ModelConfig(name="airbench", kwargs={"widths": [16, 32, 32], "bn_eps": 1e-5}),
            optim=OptimConfig(
                lr=0.2, norm_lr_scale=4.0, label_smoothing=0.1, warmup_fraction=0.2, final_factor=0.05
            ),
            trainer={"max_epochs": 3, "enable_progress_bar": False, "enable_model_summary": False},
            out=out,
        )
        result = train(config)
        assert result.run_dir == out and result.summary["test_acc"] > 0.9, result.summary

    return built_once("digits-run", build)


@pytest.fixture(scope="session")
def digits_bundle(built_once: BuiltOnce, digits_run: Path) -> Path:
    """``lightship export RUN --formats all`` of digits_run: every format of the table whose optional
    dependency is installed (see :func:`require_format`), calibrated and verified on the run's own data
    (digits' train and test splits, so int8 is gated on accuracy). Made ONCE per test run: pt2 compiles C++
    for minutes on two cores."""
    from lightship.export.commands import export_command

    def build(folder: Path) -> None:
        # the bundle alone in its folder: tests check that export leaves nothing beside it
        code = export_command(
            digits_run,
            out=folder / "bundle",
            formats="all",
            n=360,
            calibration_size=128,
            max_input=DIGITS_MAX_INPUT,
        )
        assert code == 0

    return built_once("digits-bundle", build) / "bundle"


def _flip_byte(path: Path) -> None:
    """Change one bit in the middle of ``path``, as corruption or tampering would."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _export_broken(run: Path, out: Path, formats: list[str] | None, mutate=None, exporter_of=None) -> tuple:
    """``lightship export RUN`` (the CLI's function) with exporters broken the way a buggy exporter would be:
    each exports a copy of the inference wrapper changed by ``mutate(wrapper)``, or (``exporter_of(name)``)
    another format's exporter writes the file. The reference model and the data stay right, so the gates
    see an artifact that is not the trained model's function. Returns (exit code, printed output, bundle)."""
    import contextlib
    import copy
    import dataclasses
    import io

    from lightship.export.commands import export_command
    from lightship.export.formats import FORMATS

    real = FORMATS.load

    def load(name: str):
        exporter = real(exporter_of(name) if exporter_of else name)
        if mutate is None:
            return exporter

        def broken(ctx, path):
            wrapper = copy.deepcopy(ctx.wrapper)
            mutate(wrapper)
            return exporter(dataclasses.replace(ctx, wrapper=wrapper, shared={}), path)

        return broken

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(FORMATS, "load", load)
        patch.setenv("COLUMNS", "250")
        code = export_command(
            run, out=out, formats=None if formats is None else ",".join(formats), n=100, calibration_size=64
        )
    return code, printed.getvalue(), out


def shift_mean(wrapper) -> None:
    """One level (1/255) off in the red channel's mean: a normalisation unlike training's."""
    import torch

    with torch.no_grad():
        wrapper.classifier.preprocess.mean[0, 0] += 1.0


@pytest.fixture(scope="session")
def shifted_mean_bundle(tmp_path_factory: pytest.TempPathFactory, digits_run: Path) -> tuple:
    """Every fp32 format exported with the red channel's mean one level off (named formats: they stay)."""
    return _export_broken(
        digits_run,
        tmp_path_factory.mktemp("broken") / "mean",
        ["onnx", "openvino", "torchscript"],
        shift_mean,
    )


@pytest.fixture(name="flip_byte", scope="session")
def flip_byte_fixture() -> Callable[[Path], None]:
    """``flip_byte(path)``: one bit changed in the middle of the file (see :func:`_flip_byte`)."""
    return _flip_byte


@pytest.fixture(name="export_broken", scope="session")
def export_broken_fixture() -> Callable[..., tuple]:
    """``export_broken(run, out, formats, mutate=None, exporter_of=None)`` (see :func:`_export_broken`)."""
    return _export_broken


def _is_loopback(host: object) -> bool:
    return host in (None, "localhost", "::1", b"localhost") or str(host).startswith("127.")


def block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine without network: every connection and name lookup beyond loopback fails at once (as an
    unplugged cable does), so code that would download is caught, and "offline" is really tested."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if sock.family == getattr(socket, "AF_UNIX", None) or _is_loopback(host):
            return real_connect(sock, address)
        raise OSError(f"network access blocked by the test (connect to {address})")

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if _is_loopback(host):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test ({host})")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for variable in ("LIGHTSHIP_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)  # the code must find out by itself


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    block_network(monkeypatch)


@pytest.fixture(scope="module")
def no_network_module() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        block_network(monkeypatch)
        yield


def photo(path: Path, cls: int, seed: int) -> None:
    """A photo-like picture of class ``cls``: a red disc (0) or a blue bar (1) on a noisy background, at a
    random size and aspect ratio, so the classes differ in content and not in file properties."""
    rng = np.random.default_rng(seed)
    width, height = (int(v) for v in rng.integers(48, 140, 2))
    pixels = rng.normal(120, 30, (height, width, 3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    x, y = width * rng.uniform(0.3, 0.7), height * rng.uniform(0.3, 0.7)
    r = min(width, height) * rng.uniform(0.2, 0.35)
    if cls == 0:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(220, 40, 30))
    else:
        draw.rectangle((x - 2 * r, y - r / 3, x + 2 * r, y + r / 3), fill=(30, 60, 210))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90)


def photo_folder(root: Path, per_class: int, corrupt: int = 0, layout: str = "flat") -> Path:
    """``root/<class>/`` (flat) or ``root/train|val/<class>/`` photos, plus ``corrupt`` broken files per class."""
    for cls, name in enumerate(("apples", "boats")):
        for i in range(per_class):
            folder = root / name if layout == "flat" else root / ("val" if i % 4 == 3 else "train") / name
            photo(folder / f"{i:03d}.jpg", cls, seed=1000 * cls + i)
        for i in range(corrupt):
            good = (root / name / "000.jpg").read_bytes()
            (root / name / f"broken{i}.jpg").write_bytes(good[: len(good) // 3] if i % 2 else b"not an image")
    return root


@pytest.fixture(name="photo_folder", scope="session")
def photo_folder_fixture() -> Callable[..., Path]:
    """``photo_folder(root, per_class, corrupt=0, layout="flat"|"train-val")``: two classes of photo-like
    pictures (see :func:`photo`)."""
    return photo_folder


class WeightsCache:
    """Real weight files where each library looks for them (the published ones cannot be downloaded here):
    a seeded fresh initialisation of the real architecture, so a test can tell them from a fresh model."""

    @staticmethod
    def torchvision(torch_home: Path, model: str, file_name: str) -> dict:
        """A 1000-class state_dict of ``model`` as ``$TORCH_HOME/hub/checkpoints/<file_name>``, the exact
        name torchvision's weights API expects (it checks the name's hash only when it downloads)."""
        import torch
        import torchvision

        torch.manual_seed(7)
        state = torchvision.models.get_model(model, weights=None, num_classes=1000).state_dict()
        folder = torch_home / "hub" / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(state, folder / file_name)
        return state

    @staticmethod
    def timm(hub_cache: Path, repo: str, revision: str = "0123456789abcdef0123456789abcdef01234567") -> dict:
        """A Hugging Face cache snapshot of timm model ``repo`` (config.json + model.safetensors written by
        timm's own ``save_for_hf``, refs/main naming the snapshot), as `hf download` leaves it."""
        import timm
        import torch

        torch.manual_seed(11)
        model = timm.create_model(repo.removeprefix("timm/"))
        folder = hub_cache / f"models--{repo.replace('/', '--')}"
        timm.models.save_for_hf(model, str(folder / "snapshots" / revision), safe_serialization=True)
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / "main").write_text(revision)
        return model.state_dict()


@pytest.fixture(scope="session")
def weights_cache() -> type[WeightsCache]:
    return WeightsCache
