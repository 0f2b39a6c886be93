"""Export a trained Classifier once into a verified bundle (TorchScript, ONNX, int8 ONNX, OpenVINO,
ExecuTorch) and check every artifact against the eager model. Format: docs/bundle.md."""

from .bundle import export_bundle
from .verify import VerifyReport, verify_bundle
from .wrapper import InferenceWrapper

__all__ = ["InferenceWrapper", "VerifyReport", "export_bundle", "verify_bundle"]
