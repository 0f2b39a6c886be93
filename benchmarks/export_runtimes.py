"""Export-runtime figures for the fast net (airbench, 32x32): ONNX Runtime vs eager PyTorch at batch 1
(target <= 0.3x latency) and int8 vs fp32 ONNX at batch 64 (target >= 2.5x throughput, <= 1 point
accuracy loss; accuracy needs labelled data, so it is only reported for a bundle exported with --data).

    python benchmarks/export_runtimes.py                 # untrained airbench, timing only
    python benchmarks/export_runtimes.py RUN_DIR_OR_CKPT # a trained run, exported to a temp bundle
    python benchmarks/export_runtimes.py BUNDLE          # an existing bundle with onnx + onnx-int8
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from lightship.bundle.integrity import MANIFEST_NAME
from lightship.export import export_bundle
from lightship.models import ModelMeta
from lightship.runtime.backends import resolve_threads
from lightship.runtime.benchmark import benchmark_bundle, render
from lightship.training.checkpoint import load_classifier


def _bundle(source: Path | None, scratch: Path) -> Path:
    if source is not None and (source / MANIFEST_NAME).is_file():
        return source
    if source is None:
        meta = ModelMeta(
            "airbench", 10, [str(i) for i in range(10)], 32, [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]
        )
        classifier = meta.build().eval()
    else:
        classifier, meta = load_classifier(source)
    bundle, _ = export_bundle(classifier, meta, scratch / "bundle", ["onnx", "onnx-int8"], verify=False)
    return bundle


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "source", nargs="?", type=Path, help="bundle, run folder or .ckpt (default: untrained)"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    console = Console()
    threads = resolve_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        bundle = _bundle(args.source, Path(scratch))
        results, source = benchmark_bundle(bundle, iterations=args.iterations, threads=threads)
    render(results, source, threads, console)
    by_name = {r.name: r for r in results}
    eager, fp32, int8 = by_name["eager"], by_name["onnx"], by_name["onnx-int8"]
    latency = fp32.latency_p50_ms / eager.latency_p50_ms
    speedup = int8.throughput_ips / fp32.throughput_ips
    console.print(f"ONNX Runtime / eager batch-1 p50 latency: {latency:.2f}x (target <= 0.3x)")
    console.print(f"int8 / fp32 ONNX batch-64 throughput: {speedup:.2f}x (target >= 2.5x)")
    if int8.accuracy is not None and fp32.accuracy is not None:
        console.print(f"int8 accuracy loss: {fp32.accuracy - int8.accuracy:.2f} points (target <= 1.0)")
    else:
        console.print("int8 accuracy loss: not measured (no labelled data; export the bundle with --data.*)")


if __name__ == "__main__":
    main()
