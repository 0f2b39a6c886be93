"""AOTInductor backend for the ``pt2`` package (torch.export + AOTInductor), loaded without model code.

The package holds machine code compiled for one torch version, OS, CPU architecture and vector ISA.
Its manifest entry records them (``versions``), and :func:`check_record` refuses to load it anywhere
else with the command that rebuilds it, rather than crashing inside the shared library.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lightship.errors import BundleError


def build_record() -> dict[str, str]:
    """Where a package compiled now can run: torch version, OS, CPU architecture, vector ISA."""
    from torch._inductor.cpu_vec_isa import pick_vec_isa

    return {
        "torch": torch.__version__,
        "os": platform.system(),
        "arch": platform.machine(),
        "cpu_isa": str(pick_vec_isa()) or "none",
    }


def check_record(artifact: dict[str, Any]) -> None:
    """BundleError unless the package was built for this torch, OS, architecture and a supported ISA."""
    from torch._inductor.cpu_vec_isa import valid_vec_isa_list

    built = artifact.get("versions", {})
    here = build_record()
    supported = {str(isa) for isa in valid_vec_isa_list()} | {"none"}
    problems = [
        f"{key} {built.get(key)!r} (here: {here[key]!r})"
        for key in ("torch", "os", "arch")
        if built.get(key) != here[key]
    ]
    if built.get("cpu_isa") not in supported:
        problems.append(
            f"cpu_isa {built.get('cpu_isa')!r} (this CPU supports: {', '.join(sorted(supported))})"
        )
    if problems:
        raise BundleError(
            f"the {artifact.get('format', 'pt2')} artifact was compiled for another platform: "
            f"{'; '.join(problems)}. An AOTInductor package runs only where it was built: re-export it "
            "here with `lightship export RUN --formats pt2`, or use the onnx or torchscript artifact."
        )


class AotiBackend:
    def __init__(self, path: Path, threads: int) -> None:
        torch.set_num_threads(threads)
        self.model = torch._inductor.aoti_load_package(str(path))

    def run(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        with torch.inference_mode():
            outputs = self.model(torch.from_numpy(images))
        return tuple(output.numpy() for output in outputs)


def load(path: Path, threads: int) -> AotiBackend:
    return AotiBackend(path, threads)
