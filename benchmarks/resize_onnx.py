"""ONNX with the native antialiased Resize vs the matrix-product resize (lightship.models.resize).

    python benchmarks/resize_onnx.py [--threads 1]

For airbench (32 px) and mobilenet_v3_small (224 px), untrained (latency and size do not depend on the
weights): exports the `onnx` and `onnx-webgpu` artifacts with lightship's own exporters and prints file
size, node count, ONNX Runtime batch-1 median latency for camera-like and model-size inputs, and max
|Δprob| against the eager model.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from lightship.export.formats import FORMATS, ExportContext
from lightship.models import InferenceWrapper, ModelMeta

SHAPES = [(32, 32), (224, 224), (480, 640), (1080, 1440)]


def _median_ms(session: ort.InferenceSession, image: np.ndarray, rounds: int) -> float:
    session.run(["probs"], {"images": image})
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        session.run(["probs"], {"images": image})
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    rng = np.random.default_rng(0)
    for model, size in (("airbench", 32), ("mobilenet_v3_small", 224)):
        meta = ModelMeta(model, 10, [str(i) for i in range(10)], size, [0.5] * 3, [0.25] * 3)
        torch.manual_seed(0)
        eager = InferenceWrapper(meta.build().eval())
        example = torch.randint(0, 256, (2, 40, 50, 3), dtype=torch.uint8)
        for name in ("onnx", "onnx-webgpu"):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{name}.onnx"  # the exporters' own scratch files are named model.*
                ctx = ExportContext(eager, example, Path(tmp), example.numpy(), opset=20)
                FORMATS.load(name)(ctx, path)
                nodes = len(onnx.load(str(path)).graph.node)
                session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                cells = []
                for height, width in SHAPES:
                    image = rng.integers(0, 256, (1, height, width, 3), dtype=np.uint8)
                    with torch.no_grad():
                        expected = eager(torch.from_numpy(image))[0].numpy()
                    diff = float(np.abs(session.run(["probs"], {"images": image})[0] - expected).max())
                    cells.append(
                        f"{height}x{width} {_median_ms(session, image, args.rounds):.2f} ms ({diff:.0e})"
                    )
                print(
                    f"{model} {name}: {path.stat().st_size / 1e6:.2f} MB, {nodes} nodes; "
                    f"batch-1 median, {args.threads} thread(s), (max |Δprob| vs eager): " + "; ".join(cells)
                )


if __name__ == "__main__":
    main()
