from __future__ import annotations

import json

from lightship.bundle.manifest import read_manifest
from lightship.export import export_bundle
from lightship.models import ModelMeta
from lightship.runtime.backends import unavailable_reason
from lightship.runtime.benchmark import benchmark_bundle, benchmark_command


def test_benchmark_writes_table_json_and_chart(tmp_path):
    meta = ModelMeta("airbench", 10, [str(i) for i in range(10)], 32, [0.5] * 3, [0.25] * 3)
    bundle = tmp_path / "bundle"
    export_bundle(meta.build().eval(), meta, bundle, ["onnx"], verify=False, calibration_size=4, verify_n=16)
    assert benchmark_command(bundle, n=16, iterations=5, threads=1, out=tmp_path / "bench") == 0
    payload = json.loads((tmp_path / "bench" / "benchmark.json").read_text())
    assert payload["threads"] == 1
    assert [r["name"] for r in payload["results"]] == ["eager", "onnx"]
    for result in payload["results"]:
        assert result["threads"] == 1 and 0 < result["latency_p50_ms"] <= result["latency_p95_ms"]
        assert result["throughput_ips"] > 0 and result["peak_rss_mb"] > 0
    assert (tmp_path / "bench" / "benchmark.png").stat().st_size > 1000


def test_benchmark_has_a_row_for_every_format_this_platform_runs(digits_bundle):
    """``lightship benchmark`` on the bundle of every installed format: one row each (Core ML only on Apple
    systems), each with real timings and the trained model's accuracy."""
    results, _ = benchmark_bundle(digits_bundle, n=64, iterations=3, threads=1, include_eager=False)
    artifacts = read_manifest(digits_bundle)["artifacts"]
    assert [r.name for r in results] == [
        a["format"] for a in artifacts if unavailable_reason(a["runtime"]) is None
    ]
    for row in results:
        assert row.latency_p50_ms > 0 and row.throughput_ips > 0 and row.file_mb > 0
        assert row.accuracy is not None and row.accuracy >= 90.0, row  # trained: chance is 10%
