"""Browser latency of the web app (WebAssembly) next to Python ONNX Runtime, same machine and thread count.

For airbench (32 px) and mobilenet_v3_small (224 px), untrained (latency does not depend on the weights):
export a bundle with the ``onnx`` and ``web-litert`` artifacts, build the site, and time one image of the
model's size in headless Chromium (the page's own per-image time, ``data-ms``) on each of its CPU backends
(``--backends``: ``litert``, LiteRT.js on ``web-litert``, the page's default; ``wasm``, onnxruntime-web on
``onnx``) and in Python (``lightship.load(..., format="onnx")``, Python's fastest CPU path, the one the
ratios are to; and ``format="web-litert"``, the page's two stages in native ONNX Runtime and LiteRT), after
``--warmup`` runs. Browser and Python batches alternate for ``--rounds`` rounds so
that both see the same load on a shared machine; medians are over all rounds.

``--profile`` also times onnxruntime-web variants with a bare session harness (web/tools/latency.html) to
show what moves its figure: its JSEP build against its plain WebAssembly build, the graph optimisation
levels, and the graph without its in-model antialiased Resize (valid only at the model's size: it shows
what the resize costs), each next to Python ONNX Runtime on the same file.

Needs the built web app and Chromium (see docs/web.md).

    .venv/bin/python benchmarks/web_latency.py [--runs 30] [--rounds 3] [--threads 1 2] [--profile]
        [--backends litert wasm] [--baseline-dist OLD/web/dist]   # also the page of another build
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from PIL import Image

from lightship.export import export_bundle
from lightship.models import ModelMeta
from lightship.runtime import load
from lightship.web import build_site, make_server

REPO = Path(__file__).resolve().parents[1]
MODELS = {"airbench": 32, "mobilenet_v3_small": 224}
LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def node_script(script: str, *args: str) -> dict:
    node = shutil.which("node") or sys.exit("node is not installed")
    done = subprocess.run(
        [node, str(REPO / script), *args], capture_output=True, text=True, check=True, timeout=1800
    )
    return json.loads(done.stdout)


def page_ms(url: str, image: Path, count: int) -> list[float]:
    """The page's per-image inference times for ``count`` uploads of ``image``."""
    report = node_script("web/tools/browser.mjs", "--url", url, *[str(image)] * count)
    if report["status"] != "ready":
        sys.exit(f"page not ready: {report}")
    return [float(r["ms"]) for r in report["results"]]


def predictor_ms(bundle: Path, pixels: np.ndarray, count: int, threads: int, format: str) -> list[float]:
    predictor = load(bundle, format=format, threads=threads)
    return timed(lambda: predictor.run(pixels[None]), count)


def session_ms(model: Path, pixels: np.ndarray, count: int, threads: int, level: str) -> list[float]:
    """Python ONNX Runtime on ``model`` with lightship's session options but the given optimisation level."""
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.graph_optimization_level = LEVELS[level]
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return timed(lambda: session.run(["probs"], {"images": pixels[None]}), count)


def timed(call, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def without_resize(model: Path, out: Path) -> Path:
    """The graph with its Resize node bypassed (identical output when the input is already at model size)."""
    graph_model = onnx.load(str(model))
    graph = graph_model.graph
    [resize] = [n for n in graph.node if n.op_type == "Resize"]
    for node in graph.node:
        node.input[:] = [resize.input[0] if name == resize.output[0] else name for name in node.input]
    graph.node.remove(resize)
    onnx.save(graph_model, str(out))
    return out


class Site:
    """A built site for ``bundle`` served on a free loopback port, with the latency harness beside the app."""

    def __init__(self, bundle: Path, folder: Path, dist: Path | None = None) -> None:
        if dist:  # another build of the app (e.g. an earlier version's web/dist), read by build_site
            os.environ["LIGHTSHIP_WEB_DIST"] = str(dist)
        try:
            self.root = build_site(bundle, folder)
        finally:
            os.environ.pop("LIGHTSHIP_WEB_DIST", None)
        shutil.copy(REPO / "web/tools/latency.html", self.root / "latency.html")
        self.server = make_server(self.root, port=0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def stats(times: list[float]) -> str:
    """Median, 10th and 90th percentile. On a shared machine the 10th percentile is the closer estimate of
    an idle machine's latency (other processes only ever add time)."""
    return f"{np.median(times):8.2f} {np.percentile(times, 10):8.2f} {np.percentile(times, 90):8.2f}"


def ratios(web: list[float], py: list[float]) -> str:
    """page / Python at the median and at the 10th percentile."""
    return f"{np.median(web) / np.median(py):5.1f}x {np.percentile(web, 10) / np.percentile(py, 10):5.1f}x"


def main_table(
    sites: dict[str, Site], bundle: Path, name: str, pixels: np.ndarray, image: Path, args
) -> None:
    """Each site's page and Python, alternating, per thread count; the page's first image is reported apart."""
    for threads in args.threads:
        web, first, py, py_litert = defaultdict(list), defaultdict(list), [], []
        count = args.runs + args.warmup
        rows = [(label, backend) for label in sites for backend in args.backends]
        for _ in range(args.rounds):
            for label, backend in rows:
                times = page_ms(f"{sites[label].url}?backend={backend}&threads={threads}", image, count)
                web[label, backend] += times[args.warmup :]
                first[label, backend].append(times[0])
            py += predictor_ms(bundle, pixels, count, threads, "onnx")[args.warmup :]
            py_litert += predictor_ms(bundle, pixels, count, threads, "web-litert")[args.warmup :]
        for label, backend in rows:
            row, times = f"{label}, {backend}, {threads} thr", web[label, backend]
            print(
                f"{name:20} {row:30} {stats(times)} {ratios(times, py)} {np.median(first[label, backend]):7.1f}"
            )
        print(f"{name:20} {f'Python onnxruntime, {threads} thr':30} {stats(py)}")
        print(f"{name:20} {f'Python web-litert, {threads} thr':30} {stats(py_litert)}")


def profile_table(site: Site, bundle: Path, name: str, size: int, pixels: np.ndarray, args) -> None:
    model = bundle / "model.onnx"
    shutil.copy(without_resize(model, Path(args.tmp) / f"{name}-noresize.onnx"), site.root / "noresize.onnx")
    common = f"size={size}&runs={args.runs}&warmup={args.warmup}"
    variants = {  # label -> (harness query, model file for Python, optimisation level)
        "JSEP build (before), opt all": (f"model=bundle/model.onnx&ort=jsep&{common}", model, "all"),
        **{
            f"wasm build, opt {level}": (
                f"model=bundle/model.onnx&ort=wasm&opt={level}&{common}",
                model,
                level,
            )
            for level in LEVELS
        },
        "wasm build, no Resize node": (
            f"model=noresize.onnx&ort=wasm&{common}",
            site.root / "noresize.onnx",
            "all",
        ),
    }
    for threads in args.threads:
        web, py = defaultdict(list), defaultdict(list)
        for _ in range(args.rounds):
            queries = [f"{query}&threads={threads}" for query, _, _ in variants.values()]
            report = node_script("web/tools/latency.mjs", "--url", site.url, *queries)
            for label, query in zip(variants, queries, strict=True):
                if "error" in report[query]:
                    sys.exit(f"{label}: {report[query]['error']}")
                web[label] += report[query]["times"]
                _, file, level = variants[label]
                py[label] += session_ms(file, pixels, args.runs + args.warmup, threads, level)[args.warmup :]
        for label in variants:
            row = f"{label}, {threads} thr"
            print(
                f"{name:20} {row:40} {stats(web[label])} {stats(py[label])} {ratios(web[label], py[label])}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["litert", "wasm"],
        choices=["litert", "wasm"],
        help="the page's CPU backends to time (?backend=): LiteRT.js on web-litert, onnxruntime-web on onnx",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also time the variants that explain the figure"
    )
    parser.add_argument("--baseline-dist", type=Path, help="also time the page of another web/dist build")
    args = parser.parse_args()
    chromium = subprocess.run(
        ["/usr/bin/chromium", "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {chromium}; onnxruntime "
        f"{ort.__version__}; load average {os.getloadavg()[0]:.2f} at {time.strftime('%H:%M:%S')}"
    )
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="lightship-web-bench-") as tmp:
        args.tmp = tmp
        for name in args.models:
            size = MODELS[name]
            torch.manual_seed(0)
            meta = ModelMeta(name, 10, [str(i) for i in range(10)], size, [0.5] * 3, [0.25] * 3)
            bundle, _ = export_bundle(
                meta.build().eval(), meta, Path(tmp) / name, formats=["onnx", "web-litert"]
            )
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            image = Path(tmp) / f"{name}.png"
            Image.fromarray(pixels).save(image)
            site = Site(bundle, Path(tmp) / f"{name}-site")
            sites = {"page": site}
            if args.baseline_dist:
                sites["baseline page"] = Site(bundle, Path(tmp) / f"{name}-baseline", args.baseline_dist)
            print(
                f"{'model':20} {'runtime':30} {'median':>8} {'p10':>8} {'p90 ms':>8} {'/Py median, p10':>13} "
                f"{'first':>7}"
            )
            main_table(sites, bundle, name, pixels, image, args)
            if args.profile:
                print(
                    f"{'model':20} {'variant (bare session)':40} {'median':>8} {'p10':>8} {'p90 ms':>8} "
                    f"{'Py med':>8} {'Py p10':>8} {'Py p90':>8} {'ratio: median, p10':>12}"
                )
                profile_table(site, bundle, name, size, pixels, args)
            for each in sites.values():
                each.close()
        print(f"# load average {os.getloadavg()[0]:.2f} at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
