from __future__ import annotations

import json

from lightship.export import export_bundle
from lightship.models import ModelMeta
from lightship.runtime.benchmark import benchmark_command


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
