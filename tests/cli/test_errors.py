"""Every subcommand given wrong values ends in one clear error line and exit status 2, never a traceback.

Wrong values: unknown choices, zero and negative numbers, missing and unwritable output paths (a path
below a regular file cannot be created, even by root), wrong file types. Each case also names a word the
error line must contain, so a message that says nothing useful fails too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from lightship.cli import main

REPO = Path(__file__).resolve().parents[2]
DIGITS = str(REPO / "configs" / "digits.yaml")


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Paths of each wrong kind: missing, a text file, an empty folder, a path below a file."""
    root = tmp_path_factory.mktemp("wrong")
    (root / "notes.txt").write_text("not an image, not a checkpoint, not YAML: [")
    (root / "empty").mkdir()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(root / "image.png")
    return {
        "missing": str(root / "missing"),
        "text": str(root / "notes.txt"),
        "empty": str(root / "empty"),
        "below_file": str(root / "notes.txt" / "out"),
        "image": str(root / "image.png"),
    }


def expect_error(argv: list[str], word: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2, (argv, code, err[-2000:])
    assert len(errors) == 1, err
    assert err.rstrip().splitlines()[-1] == errors[0], f"the error must be the last line: {err}"
    assert word.lower() in errors[0].lower(), (word, errors[0])


TRAIN = ["train", "--config", DIGITS]


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        ([*TRAIN, "--data.source", "foo"], "--data.source"),
        ([*TRAIN, "--data.batch_size", "0"], "batch_size"),
        ([*TRAIN, "--data.batch_size", "-3"], "batch_size"),
        ([*TRAIN, "--data.image_size", "0"], "image_size"),
        ([*TRAIN, "--data.image_size", "4"], "image_size"),
        ([*TRAIN, "--data.val_fraction", "1.5"], "val_fraction"),
        ([*TRAIN, "--data.num_workers", "-1"], "num_workers"),
        ([*TRAIN, "--optim.lr", "-1"], "optim.lr"),
        ([*TRAIN, "--optim.lr", "0"], "optim.lr"),
        ([*TRAIN, "--optim.optimizer", "lion"], "--optim.optimizer"),
        ([*TRAIN, "--optim.lookahead_every", "0"], "lookahead_every"),
        ([*TRAIN, "--tta", "5"], "--tta"),
        ([*TRAIN, "--trainer.max_epochs", "-5"], "max_epochs"),
        ([*TRAIN, "--trainer.accelerator", "quantum"], "accelerator"),
        ([*TRAIN, "--model.name", "resnet81"], "did you mean"),
        ([*TRAIN, "--trainer.logger", "false"], "--trainer.logger"),
        ([*TRAIN, "--trainer.callbacks+=NoSuchCallback"], "NoSuchCallback"),
        ([*TRAIN, "--nope", "3"], "--nope"),
        (["train", "--resume"], "--resume"),
    ],
)
def test_train_rejects_wrong_values(argv: list[str], word: str, capsys: pytest.CaptureFixture[str]) -> None:
    expect_error(argv, word, capsys)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--data.root", "{missing}"], "does not exist"),
        (["--data.root", "{text}"], "not a folder"),
        (["--data.root", "{empty}"], "layouts"),
        (["--config", "{missing}"], "--config"),
        (["--config", "{text}"], "--config"),
        (["--resume", "{missing}"], "config.yaml"),
        (["--resume={empty}"], "config.yaml"),
        (["--config", DIGITS, "--model.weights", "{missing}"], "do not exist"),
        (["--config", DIGITS, "--model.weights", "{text}"], "not a readable weights file"),
        (["--config", DIGITS, "--model.weights", "{empty}"], "without weights"),
        (["--config", DIGITS, "--out", "{text}"], "is a file"),
        (["--config", DIGITS, "--out", "{below_file}"], "cannot use"),
    ],
)
def test_train_rejects_wrong_paths(
    args: list[str], word: str, places: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    expect_error(["train", *(a.format(**places) for a in args)], word, capsys)


def test_train_refuses_an_existing_run_folder(digits_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expect_error([*TRAIN, "--out", str(digits_run)], "--overwrite", capsys)


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["tune", "lr", "--config", DIGITS, "--num_training", "0"], "num_training"),
        (["tune", "lr", "--config", DIGITS, "--min_lr", "-1"], "min_lr"),
        (["tune", "batch-size", "--config", DIGITS, "--max_trials", "0"], "max_trials"),
        (["tune", "momentum"], "tune has: lr, batch-size"),
        (["data", "stir"], "data has: inspect, shard"),
        (["frobnicate"], "unknown command"),
        (["models", "--filter"], "--filter"),
        (["completion", "powershell"], "bash"),
    ],
)
def test_other_commands_reject_wrong_values(
    argv: list[str], word: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_error(argv, word, capsys)


#: ``{run}`` a run folder, ``{bundle}`` its bundle, and the wrong kinds of ``places``.
CASES = [
    (["evaluate", "{missing}"], "does not exist"),
    (["evaluate", "{text}"], "not a readable checkpoint"),
    (["evaluate", "{run}", "--split", "foo"], "--split"),
    (["evaluate", "{run}", "--tta", "3"], "--tta"),
    (["evaluate", "{run}", "--batch_size", "0"], "--batch_size"),
    (["evaluate", "{run}", "--out", "{below_file}"], "cannot use"),
    (["evaluate", "{run}", "--data.root", "{missing}"], "does not exist"),
    (["evaluate", "{run}", "--data.root", "{empty}"], "layouts"),
    (["export", "{missing}"], "does not exist"),
    (["export", "{text}"], "not a readable checkpoint"),
    (["export", "{run}", "--formats", "foo"], "unknown format"),
    (["export", "{run}", "--n", "0"], "--n"),
    (["export", "{run}", "--calibration_size", "-1"], "--calibration_size"),
    (["export", "{run}", "--threads", "0"], "--threads"),
    (["export", "{run}", "--out", "{below_file}"], "cannot use"),
    (["export", "{run}", "--out", "{bundle}"], "already exists"),
    (["verify", "{missing}"], "does not exist"),
    (["verify", "{run}"], "run folder"),
    (["verify", "{bundle}", "--n", "0"], "--n"),
    (["verify", "{bundle}", "--threads", "0"], "--threads"),
    (["predict", "{missing}", "{image}"], "does not exist"),
    (["predict", "{bundle}", "{image}", "--runtime", "tensorrt"], "tensorrt"),
    (["predict", "{bundle}", "{image}", "--threads", "0"], "--threads"),
    (["predict", "{bundle}", "{image}", "--top_k", "0"], "--top_k"),
    (["predict", "{run}", "{image}", "--runtime", "onnxruntime"], "lightship export"),
    (["predict", "{bundle}"], "images"),
    (["benchmark", "{missing}"], "does not exist"),
    (["benchmark", "{run}"], "run folder"),
    (["benchmark", "{bundle}", "--n", "0"], "--n"),
    (["benchmark", "{bundle}", "--iterations", "0"], "--iterations"),
    (["benchmark", "{bundle}", "--threads", "-1"], "--threads"),
    (["serve", "{missing}"], "does not exist"),
    (["serve", "{run}"], "run folder"),
    (["serve", "{bundle}", "--runtime", "executorch"], "executorch"),
    (["serve", "{bundle}", "--port", "70000"], "--port"),
    (["serve", "{bundle}", "--workers", "0"], "--workers"),
    (["serve", "{bundle}", "--max_batch", "0"], "max_batch"),
    (["serve", "{bundle}", "--threads", "0"], "--threads"),
    (["serve", "{bundle}", "--max_upload_mb", "0"], "max_upload_mb"),
    (["web", "{missing}", "--out", "{missing}"], "does not exist"),
    (["web", "{run}", "--out", "{missing}"], "run folder"),
    (["web", "{bundle}", "--out", "{below_file}"], "cannot use"),
    (["web", "{bundle}", "--out", "{missing}", "--port", "-1"], "--port"),
    (["data", "inspect", "{missing}"], "does not exist"),
    (["data", "inspect", "{text}"], "not a folder"),
    (["data", "inspect", "{empty}", "--samples", "-1"], "--samples"),
    (["data", "shard", "{missing}", "--out", "{empty}"], "does not exist"),
    (["data", "shard", "{empty}", "--out", "{missing}", "--shard_size", "0"], "--shard_size"),
]


@pytest.mark.parametrize(("argv", "word"), CASES, ids=[" ".join(a[:3]) for a, _ in CASES])
def test_commands_reject_wrong_values(
    argv: list[str],
    word: str,
    digits_run: Path,
    digits_bundle: Path,
    places: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    where = {**places, "run": str(digits_run), "bundle": str(digits_bundle)}
    expect_error([a.format(**where) for a in argv], word, capsys)
