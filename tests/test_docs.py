"""Docs that run: every shell and Python snippet of README.md and docs/*.md, in order, in one temporary folder.

A snippet is a fenced block marked ``bash``/``sh``/``shell`` or ``python``; other fences (layouts, JSON,
diagrams) are text. A snippet is skipped only when the line before its fence is a tag with the reason:
``<!-- docs-test: skip (needs two machines) -->``. Everything else runs on this machine, on small data,
with the few substitutions in :data:`SUBSTITUTIONS` (CIFAR-10 -> the built-in digits or a small copy in the
CIFAR-10 formats, GPU -> CPU, short epochs, free ports), each stated with its reason. Commands that serve
(``lightship serve``, ``lightship web --serve``) start in the background and are stopped when their
snippet ends; the snippet's later commands (``curl``) talk to them. A server command without ``--port`` gets
the test's free port (the defaults, 8000 and 8080, may be taken on the machine that runs the tests). The test stops at the first snippet
that fails and prints its file, line, command and output.

The other test here checks that every option of every command appears in the docs.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN = {"bash": "bash", "sh": "bash", "shell": "bash", "python": "python"}
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>.+)\)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")
#: Each command's longest run; a snippet's commands run one after the other.
COMMAND_TIMEOUT = 300
#: Repository folders the snippets name by relative path.
LINKED = ("configs", "examples", "benchmarks", "node", "web")
SERVE_PORT, WEB_PORT = 8000, 8080


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORTS = {SERVE_PORT: _free_port(), WEB_PORT: _free_port()}

#: (pattern, replacement, why): the only differences between what the docs say and what runs here.
SUBSTITUTIONS: list[tuple[str, str, str]] = [
    (
        r"configs/cifar10-(fast|resnet18|gpu)\.yaml",
        "configs/digits.yaml --data.source auto",
        "CIFAR-10 recipes -> the digits recipe (its source read from --data.root, as the CIFAR configs' is)",
    ),
    (r'--data\.root "?(/data/|DATA/|\$DATA/)cifar10-jpg"?', "", "no CIFAR-10 here: the built-in digits"),
    (
        r"--data\.root /data/cifar10\b",
        "--data.root cifar10-release",
        "a small set in the CIFAR-10 release format",
    ),
    (r"--data\.download true", "", "nothing is downloaded in tests"),
    (r"--trainer\.accelerator gpu", "--trainer.accelerator cpu", "no GPU here"),
    (r"--trainer\.devices 4", "--trainer.devices 2", "two CPU processes stand for four GPUs"),
    (r"~/photos", "photos", "a small folder of digit images made by the test"),
    (r"^(\s*)pip install .*$", r"\1: pip install skipped", "the test environment has every extra installed"),
    (
        r"lightship (train|tune lr|tune batch-size)((?: --config \S+)?)",
        r"lightship \1\2 --trainer.max_epochs 1 --trainer.limit_train_batches 1 --trainer.limit_val_batches 1 "
        r"--trainer.limit_test_batches 1",
        "one batch per epoch, one epoch: the command is checked, not the accuracy (options written later win)",
    ),
    (
        r'trainer=\{"max_epochs": (\d+)\}',
        r'trainer={"max_epochs": 1, "limit_train_batches": 1, "limit_val_batches": 1, "limit_test_batches": 1}',
        "the same short epochs in Python",
    ),
    (r"lightship benchmark (\S+)", r"lightship benchmark \1 --iterations 3 --n 32", "a few timing rounds"),
    (rf"\b{SERVE_PORT}\b", str(PORTS[SERVE_PORT]), "a free port (other programs may hold 8000)"),
    (rf"\b{WEB_PORT}\b", str(PORTS[WEB_PORT]), "a free port (other programs may hold 8080)"),
]
#: Commands that serve until stopped: started in the background, then waited for on their port.
SERVERS = [
    (re.compile(r"^lightship serve\b"), PORTS[SERVE_PORT]),
    (re.compile(r"^lightship web\b.*--serve\b"), PORTS[WEB_PORT]),
]


@dataclass
class Snippet:
    file: Path
    line: int
    language: str
    code: str
    skip: str | None

    def __str__(self) -> str:
        return f"{self.file.relative_to(REPO)}:{self.line}"


def snippets() -> Iterator[Snippet]:
    """Every runnable fenced block of the docs, in reading order (README first)."""
    for file in DOCS:
        lines = file.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            match = FENCE.match(lines[i])
            if not match:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            language = match.group(1)
            if language in RUN:
                before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
                tag = SKIP.search(before)
                code = "\n".join(lines[i + 1 : end])
                yield Snippet(file, i + 1, RUN[language], code, tag.group("reason") if tag else None)
            i = end + 1


def substitute(text: str) -> str:
    for pattern, replacement, _ in SUBSTITUTIONS:
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def commands(code: str) -> list[str]:
    """A shell snippet's commands: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            found.append(stripped)
    return found


def _digits(n_per_class: int, classes: int = 10, size: int = 32) -> list[tuple[np.ndarray, int]]:
    from lightship.data import DataConfig, load_split

    digits = load_split(DataConfig(source="digits", image_size=size), "train")
    taken: dict[int, int] = {}
    chosen = []
    for image, label in zip(digits.images.numpy(), digits.labels.tolist(), strict=True):
        if label < classes and taken.get(label, 0) < n_per_class:
            taken[label] = taken.get(label, 0) + 1
            chosen.append((image, label))
    return chosen


def _cifar_release(root: Path) -> None:
    """The CIFAR-10 python release's files and format (pickled dicts of 3072-byte rows), with digits inside."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    images = _digits(15)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    for index, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
        part = images[index::6]
        rows = np.stack([image.transpose(2, 0, 1).reshape(-1) for image, _ in part])
        batch = {b"data": rows, b"labels": [label for _, label in part]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [n.encode() for n in names]}))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's folder: the repository's configs, examples, node/ and web/, a folder of photos, single
    photos, and a small CIFAR-10 release."""
    work = tmp_path_factory.mktemp("docs")
    for name in LINKED:
        (work / name).symlink_to(REPO / name)
    for index, (image, label) in enumerate(_digits(40, classes=3)):
        folder = work / "photos" / ["zero", "one", "two"][label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index}.png")
    first = _digits(1)[3][0]
    for name in ("photo.jpg", "cat.jpg", "a.jpg", "img1.jpg", "digit.png", "b.png"):
        Image.fromarray(first).save(work / name)
    _cifar_release(work / "cifar10-release")
    return work


def _environment(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{REPO / 'src'}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["LIGHTSHIP_CACHE"] = str(work / ".cache")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_for_port(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}: {server.stdout.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listened on port {port} after {seconds} s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_shell(snippet: Snippet, work: Path, env: dict[str, str]) -> None:
    servers: list[subprocess.Popen] = []
    try:
        for command in commands(substitute(snippet.code)):
            port = next((p for pattern, p in SERVERS if pattern.search(command)), None)
            if port is not None:
                for server in servers:  # one server per port: the docs' alternatives run one after another
                    _stop(server)
                if not re.search(r"--port\b", command):  # the default port (8000/8080) may be taken here
                    command = re.sub(r"^lightship (serve|web)\b", rf"lightship \1 --port {port}", command)
                server = subprocess.Popen(
                    ["bash", "-c", command.rstrip("& ")],
                    cwd=work,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
                servers.append(server)
                _wait_for_port(port, server)
                continue
            started = time.monotonic()
            done = subprocess.run(
                ["bash", "-c", f"set -euo pipefail\n{command}"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
            if done.returncode != 0:
                pytest.fail(
                    f"{snippet}: `{command}` exited with {done.returncode}\n{done.stdout[-3000:]}\n"
                    f"{done.stderr[-3000:]}",
                    pytrace=False,
                )
            assert "Traceback" not in done.stderr, f"{snippet}: `{command}`\n{done.stderr[-3000:]}"
            print(f"{time.monotonic() - started:6.1f} s  {snippet}: {command[:110]}", flush=True)
    finally:
        for server in servers:
            _stop(server)


def run_python(snippet: Snippet, work: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", substitute(snippet.code)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    if done.returncode != 0:
        pytest.fail(f"{snippet}: the Python snippet failed\n{done.stderr[-3000:]}", pytrace=False)


@pytest.mark.timeout(2400)  # about 15 minutes on a busy 2-core machine: every command starts torch
def test_every_snippet_of_the_docs_runs(workdir: Path) -> None:
    if not (REPO / "node" / "node_modules").is_dir() or not (REPO / "web" / "dist" / "index.html").is_file():
        pytest.fail("the docs use the web app and the Node runner: run `make js` first", pytrace=False)
    env = _environment(workdir)
    ran, skipped = [], []
    started = time.monotonic()
    for snippet in snippets():
        if snippet.skip:
            skipped.append(f"{snippet} ({snippet.skip})")
            continue
        (run_python if snippet.language == "python" else run_shell)(snippet, workdir, env)
        ran.append(str(snippet))
    print(f"\n{len(ran)} snippets ran in {time.monotonic() - started:.0f} s; {len(skipped)} skipped:")
    print("\n".join(f"  {s}" for s in skipped))
    assert ran


def test_skip_tags_are_few_and_give_reasons() -> None:
    found = list(snippets())
    skipped = [s for s in found if s.skip]
    assert all(len(s.skip.split()) >= 3 for s in skipped), [str(s) for s in skipped]
    assert len(skipped) <= len(found) // 3, f"{len(skipped)} of {len(found)} snippets skipped"


def test_every_option_of_every_command_is_documented() -> None:
    """Each option name of every command appears in the README or docs/ (Lightning's own --trainer.*
    options are Lightning's documentation's, which docs/cli.md points to)."""
    from lightship.cli.commands import installed_parsers
    from lightship.cli.parsing import user_options

    text = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS).replace("-", "_")
    missing = [
        f"lightship {name} {option}"
        for name, parser in installed_parsers()
        for option, _ in user_options(parser)
        if not option.startswith("--trainer.") and option.replace("-", "_") not in text
    ]
    assert not missing, "undocumented options:\n" + "\n".join(missing)
