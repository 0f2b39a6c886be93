"""``evaluate`` end to end on a model with known predictions: report values, files and the CLI signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from PIL import Image

from lightship.data import DataConfig
from lightship.errors import DataError
from lightship.evaluation import evaluate

from .conftest import CLASSES, COLOURS, write_image

PICTURES = ("confusion_matrix.png", "reliability.png", "confident_mistakes.png")


def assert_png(path: Path, min_side: int = 200) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert min(image.size) >= min_side, f"{path.name} is only {image.size}"
        image.load()


def test_report_json_and_markdown(colour_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    report = evaluate(colour_run, out=out)
    saved = json.loads((out / "report.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert saved["num_images"] == 9
    assert saved["top1"] == pytest.approx(8 / 9, abs=1e-6)
    assert saved["top5"] is None
    assert saved["class_names"] == CLASSES
    # rows = true class (blue, green, red); the red image filed under green is predicted red.
    assert saved["confusion_matrix"] == [[3, 0, 0], [0, 2, 1], [0, 0, 3]]
    assert saved["per_class"]["green"] == {
        "precision": 1.0,
        "recall": pytest.approx(2 / 3, abs=1e-6),
        "f1": pytest.approx(0.8, abs=1e-6),
        "support": 3,
    }
    assert saved["per_class"]["red"]["precision"] == pytest.approx(0.75, abs=1e-6)
    assert saved["most_confused"] == [{"true": "green", "predicted": "red", "count": 1}]
    assert 0.0 <= saved["ece"] <= 1.0
    assert (saved["split"], saved["tta"]) == ("test", 0)
    assert saved["checkpoint"].endswith("best.ckpt")
    for name in PICTURES:
        assert_png(out / name)
    markdown = (out / "report.md").read_text()
    for name in PICTURES:
        assert f"]({name})" in markdown
    assert "green → red: 1 images" in markdown
    assert "Worst by F1: green (0.800)" in markdown
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_tta_and_default_report_folder(colour_run: Path) -> None:
    report = evaluate(colour_run, tta=2, split="train")
    assert (report["tta"], report["split"], report["top1"]) == (2, "train", 1.0)
    assert (colour_run / "report-train" / "report.json").is_file()


def test_data_root_override_keeps_the_runs_source(colour_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    for name in CLASSES:
        write_image(other / "train" / name / "a.png", COLOURS[name])
        write_image(other / "test" / name / "a.png", COLOURS["blue"])  # every test image looks blue
    report = evaluate(colour_run, data=DataConfig(root=other), out=tmp_path / "r")
    assert report["data"] == {"source": "imagefolder", "root": str(other)}
    assert report["confusion_matrix"] == [[1, 0, 0], [1, 0, 0], [1, 0, 0]]


def test_data_with_other_classes_is_refused(colour_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    for name in ("cat", "dog"):
        write_image(other / name / "a.png", COLOURS["red"])
    with pytest.raises(DataError, match="trained on"):
        evaluate(colour_run, data=DataConfig(root=other), out=tmp_path / "r")


def test_loose_checkpoint_needs_data(colour_run: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose.ckpt"
    loose.write_bytes((colour_run / "checkpoints" / "best.ckpt").read_bytes())
    with pytest.raises(DataError, match=r"--data\.source"):
        evaluate(loose, out=tmp_path / "r")
    data = yaml.safe_load((colour_run / "config.yaml").read_text())["data"]
    report = evaluate(
        loose, data=DataConfig(source="imagefolder", root=Path(data["root"])), out=tmp_path / "r"
    )
    assert report["num_images"] == 9


def test_command_line_arguments(colour_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluate_command through the command line's parser: the flags it produces work."""
    from lightship import cli

    out = tmp_path / "cli-report"
    assert cli.main(["evaluate", str(colour_run), "--tta", "1", "--out", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["tta"] == 1
    assert cli.main(["evaluate", str(colour_run), "--tta", "3", "--out", str(out)]) == 2


def test_the_checkpoint_is_resolved_and_read_once(colour_run: Path, tmp_path: Path, monkeypatch) -> None:
    from lightship.evaluation import evaluate_command
    from lightship.training import checkpoint

    calls = {"resolve": 0, "read": 0}
    for name, key in (("resolve_checkpoint", "resolve"), ("read_checkpoint", "read")):
        real = getattr(checkpoint, name)

        def counting(*args, real=real, key=key):
            calls[key] += 1
            return real(*args)

        monkeypatch.setattr(checkpoint, name, counting)
    assert evaluate_command(colour_run, out=tmp_path / "r") == 0
    assert calls == {"resolve": 1, "read": 1}


def test_a_digits_run_scores_the_folder_given_not_digits_again(digits_run: Path, tmp_path: Path) -> None:
    """`evaluate RUN --data.root FOLDER` for a run trained on the built-in digits: the folder's source is read
    from the folder (class folders), never the run's built-in data silently."""
    from lightship.data import load_split

    digits = load_split(DataConfig(source="digits", image_size=32), "test")
    for index, (image, label) in enumerate(zip(digits.images[:150], digits.labels[:150], strict=True)):
        write_path = tmp_path / "scans" / str(int(label)) / f"{index}.png"
        write_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.numpy()).save(write_path)
    report = evaluate(digits_run, data=DataConfig(root=tmp_path / "scans"), out=tmp_path / "report")
    assert report["data"] == {"source": "imagefolder", "root": str(tmp_path / "scans")}
    assert report["num_images"] < 150 < len(digits.labels)  # the folder's test share, not digits' 360
