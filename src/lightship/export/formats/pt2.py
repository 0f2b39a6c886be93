"""``pt2``: torch.export's program compiled ahead of time by AOTInductor into one package.

TorchScript's successor: Python (``torch._inductor.aoti_load_package``) and C++
(``torch::inductor::AOTIModelPackageLoader``) load it without the model's code, with dynamic batch,
height and width, and run the native antialiased resize (a proxy call into ATen), so it matches the
eager model bit for bit. The package is machine code for the torch version, OS, CPU architecture and
vector ISA it was compiled on: the manifest records them (``versions``) and the runtime refuses it
elsewhere (:func:`lightship.runtime.backends.aoti.check_record`). Compiling takes minutes on a 2-core CPU
and needs a C++ compiler.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from torch.export import Dim

from lightship.errors import BundleError
from lightship.export.formats import Artifact, ExportContext
from lightship.runtime.backends.aoti import build_record


def _check_compiler() -> None:
    from torch._inductor import config

    compiler = config.cpp.cxx[0] if isinstance(config.cpp.cxx, tuple) else config.cpp.cxx
    if shutil.which(compiler or "g++") is None and shutil.which("g++") is None:
        raise BundleError(
            "the pt2 format compiles C++ with AOTInductor and no C++ compiler was found (g++); "
            "install one (Debian: apt-get install g++) or leave pt2 out of --formats"
        )


def export(ctx: ExportContext, path: Path) -> Artifact:
    _check_compiler()
    dims = {0: Dim("batch"), 1: Dim("height"), 2: Dim("width")}
    with torch.no_grad():
        program = torch.export.export(ctx.wrapper, (ctx.example,), dynamic_shapes={"images": dims})
        torch._inductor.aoti_compile_and_package(program, package_path=str(path))
    return Artifact(path, [path], build_record())
