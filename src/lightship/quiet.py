"""Dependencies' advertisements and deprecation notices kept out of lightship's normal output.

Each filter names one message (or one dependency's deprecation category) so that nothing else is hidden:
a new warning still shows. The command line installs them (``lightship --verbose ...`` does not), and so do
the worker processes a command starts (benchmark's), through :data:`ENV`; the Python API leaves warnings
alone.
"""

from __future__ import annotations

import logging
import os
import warnings

#: (message regex, category, module regex) of warnings that say nothing a lightship user can act on.
WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    # Lightning on torch >= 2.10 uses a deprecated pytree check; fixed upstream, harmless here.
    (r".*isinstance\(treespec, LeafSpec\)", Warning, ""),
    # torch.jit (TorchScript export and runtime) is deprecated in favour of torch.export; lightship keeps it
    # as one format among several, documented in docs/bundle.md.
    (r".*torch\.jit\.", Warning, ""),
    (r".*TorchScript", DeprecationWarning, ""),
    # jsonargparse's notice about its own future defaults.
    (r".*", Warning, r"jsonargparse"),
    # ONNX export internals (onnxscript, torch.onnx) and OpenVINO's conversion notices.
    (r".*", DeprecationWarning, r"(onnxscript|onnx_ir|torch\.onnx|openvino)"),
    (r".*", FutureWarning, r"(onnxscript|onnx_ir|torch\.onnx|openvino)"),
    # On --resume the run's checkpoint folder is not empty, as it should be (a new run always gets a fresh one).
    (r"Checkpoint directory .* exists and is not empty", Warning, ""),
    # Lightning's advice about DataLoader workers: lightship's in-memory loaders need none.
    (r".*does not have many workers", Warning, ""),
)
#: Log lines from dependencies that advertise products.
ADVERTISEMENTS = ("💡 Tip:",)
_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class _NoAdvertisements(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(ADVERTISEMENTS)


#: Set by :func:`install`, read by :func:`install_if_asked` in processes a quiet command starts.
ENV = "LIGHTSHIP_QUIET"


def install() -> None:
    """Hide the messages above in this process, and mark its child processes to do the same."""
    os.environ[ENV] = "1"
    for message, category, module in WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(_NoAdvertisements())
    os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")  # no usage reporting from a CLI run


def install_if_asked() -> None:
    """In a worker process: be as quiet as the command that started it."""
    if os.environ.get(ENV) == "1":
        install()
