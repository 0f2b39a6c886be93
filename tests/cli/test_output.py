"""Output that is true and readable: tables whole when piped, progress in a terminal, brackets kept, and a
first session (train, export, predict) with no dependency's advertisement, warning or traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from lightship.cli import main, problems

REPO = Path(__file__).resolve().parents[2]
NOISE = ("Tip:", "Warning", "warn(", "deprecated", "Traceback", "litlogger", "litmodels")


def lightship(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"COLUMNS", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
    }
    environment["PYTHONPATH"] = f"{REPO / 'src'}{os.pathsep}{environment.get('PYTHONPATH', '')}"
    return subprocess.run(
        [sys.executable, "-m", "lightship.cli", *args],
        cwd=cwd,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_piped_table_keeps_every_word(digits_bundle: Path, tmp_path: Path) -> None:
    done = lightship("verify", str(digits_bundle), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    for word in ("onnxruntime", "torchscript", "onnx-int8", "openvino", "top-1 agree"):
        assert word in done.stdout, word


def test_a_terminal_sees_a_progress_bar_per_artifact(digits_bundle: Path, tmp_path: Path) -> None:
    done = lightship(
        "verify",
        str(digits_bundle),
        cwd=tmp_path,
        TTY_COMPATIBLE="1",
        TTY_INTERACTIVE="1",
        COLUMNS="160",
    )
    assert done.returncode == 0, done.stderr
    for name in ("onnx", "openvino", "torchscript", "onnx-int8"):
        assert f"verify {name}" in done.stderr, name


def test_brackets_in_messages_and_paths_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems.report('openvino is not installed: run `pip install "lightship[openvino]"`')
    assert 'pip install "lightship[openvino]"' in capsys.readouterr().err
    root = tmp_path / "my[photos]"
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        Image.new("RGB", (9, 9), (10, 200, 30)).save(root / name / "a.png")
    assert main(["data", "inspect", str(root)]) == 0
    assert str(root) in capsys.readouterr().out
    assert main(["data", "inspect", str(tmp_path / "our[cats]")]) == 2
    assert "our[cats]" in capsys.readouterr().err


def test_a_first_session_prints_no_dependency_noise(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (20, 20), (255, 255, 255)).save(photo)
    steps = [
        (
            "train",
            "--config",
            str(REPO / "configs" / "digits.yaml"),
            "--data.image_size",
            "16",
            "--trainer.max_epochs",
            "1",
            "--out",
            "run",
        ),
        ("export", "run", "--formats", "onnx,torchscript", "--n", "50"),
        ("predict", "run/bundle", str(photo), "--runtime", "onnx"),
        ("predict", "run", str(photo)),
    ]
    for step in steps:
        done = lightship(*step, cwd=tmp_path, LIGHTSHIP_CACHE=str(tmp_path / "cache"))
        assert done.returncode == 0, (step, done.stderr[-3000:])
        noise = [line for line in done.stderr.splitlines() if any(word in line for word in NOISE)]
        assert not noise, (step, noise)
