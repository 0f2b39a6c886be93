"""Export a trained Classifier once into a verified bundle (TorchScript, ONNX, int8 ONNX, OpenVINO) and
check every artifact against the eager model. The bundle's format is :mod:`lightship.bundle`'s."""

from lightship.export.bundle import export_bundle
from lightship.export.verify import verify_bundle

__all__ = ["export_bundle", "verify_bundle"]
