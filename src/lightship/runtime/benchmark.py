"""``lightship benchmark``: latency, throughput, memory, size and accuracy of every runtime of a bundle.

Each runtime is measured in its own fresh process (spawned), so its peak memory (ru_maxrss) is its own
and no runtime inherits another's thread pool or allocator state. Every runtime, and the eager PyTorch
reference, gets the same thread count, stated in the output.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from lightship.bundle.integrity import check_files, manifest_records
from lightship.bundle.manifest import read_manifest
from lightship.console import console, escape, track
from lightship.data.config import DataConfig
from lightship.errors import BundleError, check_at_least
from lightship.files import save_figure, write_json
from lightship.quiet import install_if_asked
from lightship.runtime.backends import resolve_threads, unavailable_reason

EAGER = "eager"


@dataclass
class RuntimeResult:
    name: str
    runtime: str
    latency_p50_ms: float
    latency_p95_ms: float
    throughput_ips: float
    """Images per second at batch 64."""
    peak_rss_mb: float
    file_mb: float
    accuracy: float | None
    threads: int


def _runner(bundle: Path, name: str, threads: int) -> Any:
    """A callable ``uint8 batch -> probs`` for artifact ``name`` (or the eager reference)."""
    if name == EAGER:
        from lightship.bundle.reference import load_reference
        from lightship.runtime.eager import EagerBackend

        manifest = read_manifest(bundle)
        backend = EagerBackend(load_reference(bundle / manifest["reference"]["files"][0]["path"]), threads)
        return lambda batch: backend.run(batch)[0]
    from lightship.runtime.predictor import load

    # Speed is measured for every artifact, verified or not; the verification status is reported apart.
    return load(bundle, format=name, threads=threads, allow_unverified=True).run


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux: VmHWM, which (unlike ru_maxrss) is not inherited
    from the parent across fork+exec, so a spawned worker reports its own peak."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def measure(
    bundle: Path,
    name: str,
    threads: int,
    images: np.ndarray,
    labels: np.ndarray | None,
    iterations: int,
    file_mb: float,
    runtime: str,
) -> RuntimeResult:
    """Batch-1 latency percentiles, batch-64 throughput and accuracy of one runtime (in a fresh process)."""
    run = _runner(bundle, name, threads)
    single = [images[i % len(images)][None] for i in range(iterations)]
    for batch in single[:5]:
        run(batch)
    times = []
    for batch in single:
        start = time.perf_counter()
        run(batch)
        times.append((time.perf_counter() - start) * 1000.0)
    batch64 = np.ascontiguousarray(np.resize(images, (64, *images.shape[1:])))
    run(batch64)
    rounds = max(3, iterations // 10)
    start = time.perf_counter()
    for _ in range(rounds):
        run(batch64)
    throughput = 64 * rounds / (time.perf_counter() - start)
    accuracy = None
    if labels is not None:
        probs = np.concatenate(
            [run(np.ascontiguousarray(images[i : i + 64])) for i in range(0, len(images), 64)]
        )
        accuracy = float((probs.argmax(1) == labels).mean() * 100.0)
    p50, p95 = np.percentile(times, [50, 95])
    return RuntimeResult(
        name, runtime, float(p50), float(p95), throughput, _peak_rss_mb(), file_mb, accuracy, threads
    )


def _in_process(queue: Any, *args: Any) -> None:
    install_if_asked()
    try:
        queue.put(measure(*args))
    except Exception as exc:  # reported to the parent, which prints it and goes on with other runtimes
        queue.put(f"{type(exc).__name__}: {exc}")


def _spawned(*args: Any) -> RuntimeResult | str:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_in_process, args=(queue, *args))
    process.start()
    result = queue.get()
    process.join()
    return result


def runnable_artifacts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The artifacts this platform can run at all (Core ML is left out off Apple systems, with a note)."""
    runnable = []
    for artifact in manifest["artifacts"]:
        reason = unavailable_reason(artifact["runtime"])
        if reason is None:
            runnable.append(artifact)
        else:
            Console(stderr=True).print(f"{artifact['format']} not measured: {reason}", highlight=False)
    return runnable


def benchmark_bundle(
    bundle: str | Path,
    data: DataConfig | None = None,
    n: int = 512,
    iterations: int = 100,
    threads: int | None = None,
    include_eager: bool = True,
) -> tuple[list[RuntimeResult], str]:
    """Measure the eager reference and every artifact of ``bundle``; returns results and the data source."""
    from lightship.bundle.samples import load_samples, verification_samples
    from lightship.bundle.verification import unverified_reason

    root = Path(bundle)
    manifest = read_manifest(root)
    check_files(root, manifest_records(manifest))
    threads = resolve_threads(threads)
    if data is not None:
        images = verification_samples(data, n, manifest["input"]["image_size"]).model_size
    elif manifest["samples"]["files"]:
        images = load_samples(root / manifest["samples"]["files"][0]["path"]).model_size
    else:
        raise BundleError(f"{root} keeps no sample images (--samples none): pass --data to benchmark on")
    images = images.take(np.arange(min(n, len(images.images))))
    for artifact in manifest["artifacts"]:
        reason = unverified_reason(manifest, artifact, str(root))
        if reason is not None:
            Console(stderr=True).print(f"[yellow]note:[/] measured for speed only: {reason}")
    rows: list[tuple[str, str, float]] = []
    if include_eager:
        rows.append((EAGER, "pytorch", manifest["reference"]["files"][0]["bytes"] / 1e6))
    rows += [
        (a["format"], a["runtime"], sum(f["bytes"] for f in a["files"]) / 1e6)
        for a in runnable_artifacts(manifest)
    ]
    results: list[RuntimeResult] = []
    for name, runtime, file_mb in track(rows, "benchmark", lambda row: row[0]):
        outcome = _spawned(root, name, threads, images.images, images.labels, iterations, file_mb, runtime)
        if isinstance(outcome, str):
            console(stderr=True).print(f"[red]{escape(name)} could not be measured:[/] {escape(outcome)}")
        else:
            results.append(outcome)
    return results, images.source


def render(results: list[RuntimeResult], source: str, threads: int, out: Console) -> None:
    table = Table(title=escape(f"benchmark: {threads} threads in every runtime; data: {source}"))
    for column in (
        "artifact",
        "runtime",
        "b1 p50 ms",
        "b1 p95 ms",
        "b64 img/s",
        "peak RSS MB",
        "file MB",
        "acc %",
    ):
        table.add_column(column, justify="left" if column in ("artifact", "runtime") else "right")
    for r in results:
        accuracy = "-" if r.accuracy is None else f"{r.accuracy:.2f}"
        table.add_row(
            r.name,
            r.runtime,
            f"{r.latency_p50_ms:.3f}",
            f"{r.latency_p95_ms:.3f}",
            f"{r.throughput_ips:.0f}",
            f"{r.peak_rss_mb:.0f}",
            f"{r.file_mb:.2f}",
            accuracy,
        )
    out.print(table)


def plot(results: list[RuntimeResult], threads: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in results]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = (
        ("batch-1 latency p50 (ms)", [r.latency_p50_ms for r in results]),
        ("batch-64 throughput (images/s)", [r.throughput_ips for r in results]),
        ("peak RSS (MB)", [r.peak_rss_mb for r in results]),
    )
    for axis, (title, values) in zip(axes, panels, strict=True):
        axis.bar(names, values, color="tab:blue")
        axis.set_title(title)
        axis.tick_params(axis="x", rotation=30)
    fig.suptitle(f"lightship benchmark, {threads} threads per runtime")
    fig.tight_layout()
    save_figure(path, fig, tight=False)
    plt.close(fig)


def benchmark_command(
    bundle: Path,
    data: DataConfig | None = None,
    n: int = 512,
    iterations: int = 100,
    threads: int | None = None,
    out: Path | None = None,
) -> int:
    """Benchmark every runtime of a bundle and the eager PyTorch model with the same thread count.

    Args:
        bundle: Bundle folder written by `lightship export`.
        data: Images for accuracy and timing (test split). Default: the sample images stored in the bundle.
        n: Number of images for accuracy.
        iterations: Batch-1 timing iterations per runtime (batch-64 rounds are a tenth, at least 3).
        threads: CPU threads of every runtime (default: all usable cores).
        out: Folder for benchmark.json and benchmark.png (default: BUNDLE-benchmark next to the bundle).

    Returns:
        0 when every runtime was measured, 1 otherwise.
    """
    check_at_least(1, n=n, iterations=iterations, threads=threads)
    bundle = Path(bundle)
    threads = resolve_threads(threads)
    results, source = benchmark_bundle(bundle, data, n=n, iterations=iterations, threads=threads)
    render(results, source, threads, console())
    out = out or bundle.with_name(f"{bundle.name}-benchmark")
    payload = {
        "bundle": str(bundle),
        "threads": threads,
        "data": source,
        "results": [asdict(r) for r in results],
    }
    write_json(out / "benchmark.json", payload)
    plot(results, threads, out / "benchmark.png")
    console().print(
        f"wrote {escape(out / 'benchmark.json')} and {escape(out / 'benchmark.png')}", highlight=False
    )
    artifacts = read_manifest(bundle)["artifacts"]
    expected = 1 + sum(unavailable_reason(a["runtime"]) is None for a in artifacts)
    return 0 if len(results) == expected else 1
