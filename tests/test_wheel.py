"""`pip install` gives every command: a wheel built from the repository carries the shipped configs (by name)
and the built web app, so train, export and web work from any folder without the source checkout.

The wheel is built from a copy of the checkout (no build folders in the worktree), installed without its
dependencies into a folder of its own, and run from another working directory with that folder first on
the path; the dependencies are the test environment's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "configs", "web/dist")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, web_tools: None) -> tuple[Path, dict[str, str]]:
    """(the install folder, an environment whose `lightship` is the installed wheel's)."""
    tmp = tmp_path_factory.mktemp("wheel")
    checkout = tmp / "checkout"
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, checkout / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, checkout / name)
    wheels = tmp / "wheels"
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(checkout)], cwd=tmp)
    (wheel,) = wheels.glob("lightship-*.whl")
    target = tmp / "site"
    run([*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)], cwd=tmp)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "LIGHTSHIP_WEB_DIST"}}
    env.update(PYTHONPATH=str(target), LIGHTSHIP_CACHE=str(tmp / "cache"), LIGHTSHIP_OFFLINE="1")
    return target, env


def test_the_installed_wheel_trains_a_shipped_config_by_name_exports_and_builds_the_web_app(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    target, env = installed
    where = run([sys.executable, "-c", "import lightship; print(lightship.__file__)"], tmp_path, env)
    assert where.stdout.strip().startswith(str(target))  # the wheel's copy, not the checkout's
    lightship = [str(target / "bin" / "lightship")]
    quick = ["--trainer.max_epochs", "2", "--trainer.enable_progress_bar", "false"]
    run([*lightship, "train", "--config", "digits", "--out", "run", *quick], tmp_path, env)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["model"] == "airbench" and summary["global_step"] > 0 and summary["test_acc"] > 0.5
    run([*lightship, "export", "run", "--formats", "onnx", "--out", "bundle"], tmp_path, env)
    run([*lightship, "web", "bundle", "--out", "site"], tmp_path, env)
    assert (tmp_path / "site" / "index.html").is_file() and (
        tmp_path / "site" / "bundle" / "model.onnx"
    ).is_file()
    assert (target / "lightship" / "configs" / "imagefolder.yaml").is_file()
