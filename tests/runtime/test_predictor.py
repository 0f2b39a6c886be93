from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lightship.runtime as runtime
from lightship.errors import BundleError
from lightship.export import export_bundle
from lightship.images import decode_image
from lightship.models import ModelMeta
from lightship.runtime.predict import predict_command


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    meta = ModelMeta("airbench", 3, ["cat", "dog", "fox"], 32, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25])
    out = tmp_path_factory.mktemp("rt") / "bundle"
    export_bundle(meta.build().eval(), meta, out, ["onnx"], calibration_size=4, verify_n=16)
    return out


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_every_input_type_gives_the_same_answer(bundle, tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (24, 36, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    path = tmp_path / "x.png"
    image.save(path)
    predictor = runtime.load(bundle, threads=1)
    single = [predictor.predict(source, top_k=5) for source in (path, str(path), _png(image), image, pixels)]
    for result in single:
        assert isinstance(result, runtime.Prediction)
        np.testing.assert_allclose(result.probs, single[0].probs, atol=1e-6)
    assert len(single[0].top_k) == 3  # top_k is capped at the number of classes
    assert isinstance(predictor.predict([pixels]), list)


def test_tampered_artifact_is_refused(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    with (copy / "model.onnx").open("r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(BundleError, match=r"model\.onnx"):
        runtime.load(copy, runtime="onnxruntime")


def test_folder_without_manifest_is_not_a_bundle(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(BundleError, match="not a bundle"):
        runtime.load(copy)


def test_predict_json_skips_unreadable_files(bundle, tmp_path, capsys):
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (10, 12), "red").save(folder / "a.png")
    Image.new("L", (7, 7), 128).save(folder / "sub" / "b.jpg")
    (folder / "broken.jpg").write_bytes(b"not an image")
    assert predict_command(bundle, [folder], top_k=2, json=True) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["a.png", "b.jpg"]
    for line in lines:
        assert line["label"] in ("cat", "dog", "fox") and len(line["top_k"]) == 2
        assert line["top_k"][0] == {"label": line["label"], "score": line["score"]}
    assert "broken.jpg" in captured.err


def test_predict_fails_when_nothing_is_readable(bundle, tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    assert predict_command(bundle, [tmp_path / "x.png"], json=True) == 1


def test_loading_a_bundle_imports_neither_torch_nor_lightning(bundle):
    """A deployment machine runs ONNX bundles with lightship.load: reading the bundle must not need torch."""
    code = (
        "import sys, lightship; p = lightship.load(sys.argv[1], runtime='onnxruntime', threads=1); "
        "p.predict(__import__('numpy').zeros((5, 7, 3), 'uint8')); "
        "print(sorted(m for m in ('torch', 'lightning') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(bundle)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_hostile_corpus_is_reported_file_by_file(bundle, tmp_path, capsys):
    from lightship.fuzz import hostile_images

    folder = tmp_path / "hostile"
    folder.mkdir()
    corpus = hostile_images()
    for name, data in corpus:
        (folder / name).write_bytes(data)
    assert predict_command(bundle, [folder], top_k=1, json=True, runtime="onnxruntime") == 0
    captured = capsys.readouterr()
    classified = [Path(json.loads(line)["path"]).name for line in captured.out.splitlines()]
    skipped = [
        line.split(": ", 1)[0].removeprefix("skipped ")
        for line in captured.err.splitlines()
        if line.startswith("skipped ")
    ]
    assert sorted(classified + [Path(p).name for p in skipped]) == sorted(name for name, _ in corpus)
    assert "bomb-400mp.png" in [Path(p).name for p in skipped]
    assert "aspect ratio" in captured.err and "strip-1x63999999.png" in captured.err


def test_an_image_the_runtime_cannot_run_is_skipped_by_name(bundle, capsys):
    from rich.console import Console

    from lightship.fuzz import pixel_bombs
    from lightship.runtime.predict import predict_chunk

    predictor = runtime.load(bundle, runtime="onnxruntime", threads=1)
    strip = decode_image(dict(pixel_bombs())["strip-1x63999999.png"])  # passes decode_image, not ORT's Resize
    good = np.full((20, 30, 3), 90, np.uint8)
    chunk = [(Path("good.png"), good), (Path("strip.png"), strip), (Path("good2.png"), good)]
    results = list(predict_chunk(predictor, chunk, 2, Console(stderr=True)))
    assert [path.name for path, _ in results] == ["good.png", "good2.png"]
    err = capsys.readouterr().err
    assert "skipped strip.png: the onnxruntime runtime could not run it" in err
