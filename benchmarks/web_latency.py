"""Browser latency of the web app (onnxruntime-web, WebAssembly) next to Python ONNX Runtime, same machine.

For airbench (32 px) and mobilenet_v3_small (224 px), untrained (latency does not depend on the weights):
export an ONNX bundle, build the site, classify one image of the model's size ``--runs`` times in
headless Chromium (the page's own per-image inference time, ``session.run``) and in Python, after
``--warmup`` runs. Needs the built web app and Chromium (see docs/web.md).

    .venv/bin/python benchmarks/web_latency.py [--runs 30] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lightship.export import export_bundle
from lightship.models import ModelMeta
from lightship.runtime import load
from lightship.web import build_site, make_server

REPO = Path(__file__).resolve().parents[1]
MODELS = {"airbench": 32, "mobilenet_v3_small": 224}


def browser_ms(url: str, image: Path, runs: int) -> list[float]:
    node = shutil.which("node") or sys.exit("node is not installed")
    command = [node, str(REPO / "web/tools/browser.mjs"), "--url", url, *[str(image)] * runs]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=900)
    report = json.loads(done.stdout)
    if report["status"] != "ready":
        sys.exit(f"page not ready: {report}")
    return [float(r["ms"]) for r in report["results"]]


def python_ms(bundle: Path, pixels: np.ndarray, runs: int, threads: int) -> list[float]:
    predictor = load(bundle, runtime="onnxruntime", threads=threads)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        predictor.run(pixels[None])
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float], warmup: int) -> str:
    kept = np.asarray(times[warmup:])
    return f"{np.median(kept):8.2f} {np.percentile(kept, 90):8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'model':20} {'runtime':28} {'median ms':>8} {'p90 ms':>8}")
    with tempfile.TemporaryDirectory(prefix="lightship-web-bench-") as tmp:
        for name, size in MODELS.items():
            torch.manual_seed(0)
            meta = ModelMeta(name, 10, [str(i) for i in range(10)], size, [0.5] * 3, [0.25] * 3)
            bundle, _ = export_bundle(
                meta.build().eval(), meta, Path(tmp) / name, formats=["onnx"], verify=False
            )
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            image = Path(tmp) / f"{name}.png"
            Image.fromarray(pixels).save(image)
            server = make_server(build_site(bundle, Path(tmp) / f"{name}-site"), port=0)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{server.server_address[1]}/?backend=wasm"
            for threads in args.threads:
                web = browser_ms(f"{url}&threads={threads}", image, args.runs + args.warmup)
                py = python_ms(bundle, pixels, args.runs + args.warmup, threads)
                print(f"{name:20} {f'onnxruntime-web wasm, {threads} thr':28} {summary(web, args.warmup)}")
                print(f"{name:20} {f'Python onnxruntime, {threads} thr':28} {summary(py, args.warmup)}")
            server.shutdown()


if __name__ == "__main__":
    main()
