"""An exported airbench bundle shared by the export tests (untrained weights: nothing downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightship.export import export_bundle
from lightship.models import ModelMeta

FORMATS = ["torchscript", "onnx", "onnx-int8", "openvino"]


def make_meta(model: str = "airbench", image_size: int = 32) -> ModelMeta:
    return ModelMeta(
        model, 10, [f"class{i}" for i in range(10)], image_size, [0.5, 0.4, 0.3], [0.25, 0.2, 0.3]
    )


@pytest.fixture(scope="session")
def airbench_export(tmp_path_factory: pytest.TempPathFactory):
    meta = make_meta()
    out = tmp_path_factory.mktemp("bundles") / "airbench"
    bundle, report = export_bundle(meta.build().eval(), meta, out, FORMATS, calibration_size=32, verify_n=96)
    return Path(bundle), report
