"""Load benchmark: ``lightship serve`` against LitServe serving the same bundle artifact, on loopback only.

Both servers are started by this script as subprocesses, one after the other (so they never compete for
the CPU), and driven by the same load generator: N asyncio workers, each on its own keep-alive HTTP/1.1
connection, sending a fixed number of 32x32 JPEG multipart uploads. The generator writes raw HTTP
instead of using an HTTP client library so that it costs as little CPU as possible on the shared cores,
the same for both servers.

    python benchmarks/serve_load.py                       # throughput + p50/p99 at concurrency 1, 8, 64
    python benchmarks/serve_load.py --soak                # 20,000 requests, 5% bad (hostile corpus too)
    python benchmarks/serve_load.py --bundle BUNDLE --json out.json
    python benchmarks/serve_load.py --bundle BUNDLE --runtime onnx-int8   # another artifact, in both servers

Without --bundle an untrained airbench (32 px, 10 classes) is exported to ONNX in a temp folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HOST = "127.0.0.1"
BOUNDARY = "lightshipbenchboundary"


# --------------------------------------------------------------------------- servers under test


try:
    import litserve as ls
except ImportError:  # only the LitServe side of the comparison needs it
    ls = None

if ls is not None:

    class BundleAPI(ls.LitAPI):
        """The same bundle artifact and decoding policy as lightship, batched by LitServe itself.
        Module level: LitServe pickles the API into its worker process."""

        def __init__(self, bundle: Path, runtime: str, threads: int | None, **kwargs) -> None:
            super().__init__(**kwargs)
            self.bundle = bundle
            self.runtime = runtime
            self.threads = threads

        def setup(self, device: str) -> None:
            from lightship.runtime import load

            self.predictor = load(self.bundle, runtime=self.runtime, threads=self.threads)
            self.labels = self.predictor.labels

        def decode_request(self, request):  # a starlette FormData for multipart uploads
            from lightship.images import decode_image

            return decode_image(request["file"].file.read())

        def batch(self, inputs):
            return np.stack(inputs)

        def predict(self, x):
            return self.predictor.run(x)

        def unbatch(self, output):
            return list(output)

        def encode_response(self, output):
            order = np.argsort(-output)[:5]
            return {"top_k": [{"label": self.labels[i], "probability": float(output[i])} for i in order]}


def litserve_main(
    bundle: Path, runtime: str, port: int, max_batch: int, batch_timeout_ms: float, threads: int | None
) -> None:
    """Run LitServe with its own batching (max batch, batch timeout) over the bundle's artifact."""
    api = BundleAPI(bundle, runtime, threads, max_batch_size=max_batch, batch_timeout=batch_timeout_ms / 1000)
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    server.run(host=HOST, port=port, generate_client_file=False, num_api_servers=1, log_level="warning")


@dataclass
class ServerSpec:
    name: str
    command: list[str]
    ready_path: str
    predict_path: str


def specs(
    bundle: Path, runtime: str, port: int, max_batch: int, max_wait_ms: float, threads: int | None
) -> dict[str, ServerSpec]:
    lightship = (
        "import sys; from pathlib import Path; from lightship.serve import serve_command; "
        f"sys.exit(serve_command(Path({str(bundle)!r}), runtime={runtime!r}, host={HOST!r}, port={port}, "
        f"max_batch={max_batch}, max_wait_ms={max_wait_ms}, threads={threads}))"
    )
    litserve = [
        sys.executable,
        __file__,
        "--run-litserve",
        str(bundle),
        "--runtime",
        runtime,
        "--port",
        str(port),
        "--max-batch",
        str(max_batch),
        "--max-wait-ms",
        str(max_wait_ms),
        *(["--threads", str(threads)] if threads else []),
    ]
    return {
        "lightship": ServerSpec("lightship", [sys.executable, "-c", lightship], "/readyz", "/v1/predict"),
        "litserve": ServerSpec("litserve", litserve, "/health", "/predict"),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(spec: ServerSpec, port: int, log: Path) -> subprocess.Popen:
    # Own process group: LitServe starts worker processes that must go down with the server.
    process = subprocess.Popen(
        spec.command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{spec.name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            status, _ = asyncio.run(one_request(port, get_request(spec.ready_path, port)))
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{spec.name} did not become ready; see {log}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's whole process group, SIGKILL what is left after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# --------------------------------------------------------------------------- requests


def jpeg(seed: int, size: int = 32) -> bytes:
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def multipart_request(
    path: str, port: int, data: bytes, part_type: str = "image/jpeg", name: str = "x.jpg"
) -> bytes:
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {part_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def raw_request(path: str, port: int, data: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def get_request(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


def good_requests(path: str, port: int, count: int = 64) -> list[bytes]:
    return [multipart_request(path, port, jpeg(seed)) for seed in range(count)]


def bad_requests(path: str, port: int) -> list[bytes]:
    """The bad-input classes of the soak: non-image, truncated JPEG, zero bytes, wrong content type, and
    every file of the hostile corpus (mutated PNG/JPEG/GIF/WebP/TIFF/BMP, huge declared sizes, extreme
    aspect ratios, pixel bombs: lightship.fuzz), each as a multipart upload named after it."""
    from lightship.fuzz import hostile_images

    good = jpeg(12345, size=64)
    return [
        multipart_request(path, port, b"this is not an image" * 10, "application/octet-stream"),
        multipart_request(path, port, good[: len(good) // 2]),
        multipart_request(path, port, b""),
        raw_request(path, port, good, "text/plain"),
        *(
            multipart_request(path, port, data, "application/octet-stream", name)
            for name, data in hostile_images()
        ),
    ]


# --------------------------------------------------------------------------- load generator


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) of one HTTP/1.1 response; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
    }
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() != "close"


async def one_request(port: int, payload: bytes) -> tuple[int, bool]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(payload)
        return await read_response(reader)
    finally:
        writer.close()


@dataclass
class LoadResult:
    server: str
    concurrency: int
    requests: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_request: float
    client_cpu_ms_per_request: float
    """The load generator's own CPU (this process): it shares the cores with the server."""
    statuses: dict[str, int] = field(default_factory=dict)


async def drive(
    port: int, payloads: list[bytes], concurrency: int, total: int
) -> tuple[list[float], Counter]:
    """``total`` requests over ``concurrency`` keep-alive connections, cycling through ``payloads``."""
    ticket = itertools.count()
    latencies: list[float] = []
    statuses: Counter = Counter()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while (index := next(ticket)) < total:
                start = time.perf_counter()
                writer.write(payloads[index % len(payloads)])
                status, keep_alive = await read_response(reader)
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server and its children: what a request costs, whatever else runs."""
    import psutil

    process = psutil.Process(pid)
    times = [p.cpu_times() for p in [process, *process.children(recursive=True)]]
    return sum(t.user + t.system for t in times)


def measure(
    name: str, pid: int, port: int, payloads: list[bytes], concurrency: int, total: int
) -> LoadResult:
    asyncio.run(drive(port, payloads, concurrency, max(2 * concurrency, 100)))  # warm-up, not counted
    cpu, client = cpu_seconds(pid), time.process_time()
    start = time.perf_counter()
    latencies, statuses = asyncio.run(drive(port, payloads, concurrency, total))
    seconds = time.perf_counter() - start
    cpu, client = cpu_seconds(pid) - cpu, time.process_time() - client
    ms = np.array(latencies) * 1000
    return LoadResult(
        name,
        concurrency,
        total,
        round(seconds, 3),
        round(total / seconds, 1),
        round(float(np.percentile(ms, 50)), 2),
        round(float(np.percentile(ms, 99)), 2),
        round(float(ms.max()), 2),
        round(1000 * cpu / total, 3),
        round(1000 * client / total, 3),
        {str(k): v for k, v in sorted(statuses.items())},
    )


def rss_mb(pid: int) -> float:
    """Resident memory of the server process (and its children: LitServe runs workers in subprocesses)."""
    import psutil

    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


class RssSampler:
    """Samples the server's resident memory every ``interval`` seconds on a thread, with timestamps."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), rss_mb(self.pid)))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def soak(
    spec: ServerSpec, process: subprocess.Popen, port: int, total: int, concurrency: int, bad_fraction: float
) -> dict:
    """``total`` requests, ``bad_fraction`` of them bad (cycling through :func:`bad_requests`); passes with
    no 5xx and the resident memory sampled in the second half peaking within 10% of the first half's."""
    good = good_requests(spec.predict_path, port)
    bad = bad_requests(spec.predict_path, port)
    every = max(1, round(1 / bad_fraction))
    payloads = [
        bad[(i // every) % len(bad)] if i % every == every - 1 else good[i % len(good)]
        for i in range(every * len(bad))
    ]
    asyncio.run(drive(port, payloads, concurrency, 2000))  # warm-up: allocator arenas, caches
    start = time.perf_counter()
    with RssSampler(process.pid) as sampler:
        latencies, statuses = asyncio.run(drive(port, payloads, concurrency, total))
    seconds = time.perf_counter() - start
    middle = start + seconds / 2
    first = max(rss for t, rss in sampler.samples if t < middle)
    second = max(rss for t, rss in sampler.samples if t >= middle)
    errors_5xx = sum(v for k, v in statuses.items() if k >= 500)
    ms = np.array(latencies) * 1000
    return {
        "server": spec.name,
        "requests": total,
        "concurrency": concurrency,
        "bad_fraction": bad_fraction,
        "bad_kinds": len(bad),
        "seconds": round(seconds, 1),
        "throughput_rps": round(total / seconds, 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors_5xx": errors_5xx,
        "rss_samples": len(sampler.samples),
        "rss_peak_mb_first_half": round(first, 1),
        "rss_peak_mb_second_half": round(second, 1),
        "rss_peak_growth_pct": round(100 * (second - first) / first, 2),
        "server_vmhwm_mb": round(vmhwm_mb(process.pid), 1),
        "passed": errors_5xx == 0 and second <= first * 1.10,
    }


def vmhwm_mb(pid: int) -> float:
    """Peak resident memory of the server process itself since it started."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024


# --------------------------------------------------------------------------- main


def export_untrained(out: Path) -> Path:
    from lightship.export import export_bundle
    from lightship.models import ModelMeta

    meta = ModelMeta("airbench", 10, [f"class{i}" for i in range(10)], 32, [0.5] * 3, [0.25] * 3)
    return export_bundle(meta.build().eval(), meta, out / "bundle", formats=["onnx"], verify_n=64)[0]


def model_cpu_ms(bundle: Path, runtime: str, batch: int) -> float:
    """CPU milliseconds per image of the served artifact alone (one intra-op thread, batches of ``batch``):
    the floor under any server's CPU per request, hence a bound on the throughput ratio of two CPU-bound
    servers of the same model on the same cores."""
    from lightship.runtime import load

    predictor = load(bundle, runtime=runtime, threads=1)
    images = np.random.default_rng(0).integers(0, 256, (batch, 32, 32, 3), dtype=np.uint8)  # as uploaded
    for _ in range(3):
        predictor.run(images)
    rounds = max(5, 400 // batch)
    start = time.thread_time()  # one intra-op thread: ONNX Runtime computes on the calling thread
    for _ in range(rounds):
        predictor.run(images)
    return 1000 * (time.thread_time() - start) / (rounds * batch)


def print_table(results: list[LoadResult], model_ms: float | None = None) -> None:
    print(
        f"{'server':10s} {'conc':>5s} {'requests':>8s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'max ms':>8s} {'cpu ms/req':>10s} {'client ms/req':>13s}  statuses"
    )
    for r in results:
        print(
            f"{r.server:10s} {r.concurrency:5d} {r.requests:8d} {r.throughput_rps:8.1f} {r.p50_ms:8.2f} "
            f"{r.p99_ms:8.2f} {r.max_ms:8.2f} {r.server_cpu_ms_per_request:10.3f} "
            f"{r.client_cpu_ms_per_request:13.3f}  {r.statuses}"
        )
    by = {(r.server, r.concurrency): r.throughput_rps for r in results}
    for conc in sorted({r.concurrency for r in results}):
        if ("lightship", conc) in by and ("litserve", conc) in by:
            print(
                f"concurrency {conc}: lightship / litserve = {by['lightship', conc] / by['litserve', conc]:.2f}x"
            )
    if model_ms is not None:
        print(f"the model alone: {model_ms:.2f} ms CPU per image (one thread, batch of the max batch size)")
        for r in results:
            if r.server == "litserve":
                bound = r.server_cpu_ms_per_request / model_ms
                print(
                    f"concurrency {r.concurrency}: a server spending nothing beyond the model would reach "
                    f"{bound:.2f}x LitServe's throughput (its CPU per request / the model's)"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bundle", type=Path, help="Bundle to serve (default: untrained airbench exported now)"
    )
    parser.add_argument(
        "--servers", nargs="+", default=["lightship", "litserve"], choices=["lightship", "litserve"]
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--requests", type=int, default=2000, help="Measured requests per concurrency level")
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--threads", type=int, help="Runtime threads for both servers (default: all cores)")
    parser.add_argument(
        "--runtime",
        default="onnxruntime",
        help="Artifact both servers run: a runtime or one of the bundle's format names (e.g. onnx-int8)",
    )
    parser.add_argument(
        "--soak", action="store_true", help="Soak lightship instead: 5xx count and RSS growth"
    )
    parser.add_argument("--soak-requests", type=int, default=20_000)
    parser.add_argument("--soak-concurrency", type=int, default=64)
    parser.add_argument("--bad-fraction", type=float, default=0.05)
    parser.add_argument("--json", type=Path, help="Also write the results here")
    parser.add_argument("--run-litserve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_litserve:
        litserve_main(
            args.run_litserve, args.runtime, args.port, args.max_batch, args.max_wait_ms, args.threads
        )
        return 0

    with tempfile.TemporaryDirectory(prefix="lightship-serve-load-") as scratch:
        bundle = args.bundle or export_untrained(Path(scratch))
        report: dict = {
            "bundle": str(bundle),
            "cpus": len(os.sched_getaffinity(0)),
            "loadavg_before": os.getloadavg(),
            "max_batch": args.max_batch,
            "max_wait_ms": args.max_wait_ms,
            "threads": args.threads,
            "runtime": args.runtime,
        }
        servers = ["lightship"] if args.soak else args.servers
        results: list[LoadResult] = []
        for name in servers:
            port = free_port()
            spec = specs(bundle, args.runtime, port, args.max_batch, args.max_wait_ms, args.threads)[name]
            process = start(spec, port, Path(scratch) / f"{name}.log")
            try:
                if args.soak:
                    report["soak"] = soak(
                        spec, process, port, args.soak_requests, args.soak_concurrency, args.bad_fraction
                    )
                    print(json.dumps(report["soak"], indent=2))
                else:
                    payloads = good_requests(spec.predict_path, port)
                    for conc in args.concurrency:
                        results.append(measure(name, process.pid, port, payloads, conc, args.requests))
                        print(
                            f"  {name} c={conc}: {results[-1].throughput_rps} req/s, p99 {results[-1].p99_ms} ms, "
                            f"server CPU {results[-1].server_cpu_ms_per_request} ms/request",
                            file=sys.stderr,
                        )
            finally:
                stop(process)
        report["loadavg_after"] = os.getloadavg()
        if results:
            report["results"] = [asdict(r) for r in results]
            report["model_cpu_ms_per_image"] = round(model_cpu_ms(bundle, args.runtime, args.max_batch), 3)
            print_table(results, report["model_cpu_ms_per_image"])
        print(json.dumps(report, indent=2))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
