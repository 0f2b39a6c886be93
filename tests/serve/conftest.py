"""Fixtures for the serve tests: one small exported bundle, real servers on free loopback ports, images."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from PIL import Image

from lightship.serve import ServeSettings, create_app


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained airbench (32 px, 10 classes) exported to ONNX: the same path users take."""
    from lightship.export import export_bundle
    from lightship.models import ModelMeta

    meta = ModelMeta("airbench", 10, [f"class{i}" for i in range(10)], 32, [0.5] * 3, [0.25] * 3)
    out, _ = export_bundle(
        meta.build().eval(),
        meta,
        tmp_path_factory.mktemp("serve") / "bundle",
        formats=["onnx"],
        verify_n=16,
        threads=1,
    )
    return out


def jpeg(width: int = 32, height: int = 32, seed: int = 0, smooth: bool = False) -> bytes:
    """A JPEG of noise (or of a cheap-to-compress gradient for big images)."""
    if smooth:
        ramp = np.add.outer(np.linspace(0, 127, height), np.linspace(0, 127, width))
        pixels = np.repeat(ramp[:, :, None], 3, axis=2).astype(np.uint8)
    else:
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels: what a decompression bomb looks like to a
    server that checks sizes before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def images() -> dict[str, bytes]:
    return {
        "small": jpeg(),
        "other": jpeg(48, 40, seed=1),
        "big": jpeg(4000, 4000, smooth=True),
        "bomb": png_bomb(),
    }


def free_socket() -> socket.socket:
    """A bound loopback socket on a free port, handed to uvicorn (no race for the port number)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


class ServerThread:
    """uvicorn.Server on a real socket in a background thread; ``url`` once it accepts connections."""

    def __init__(self, bundle: Path, settings: ServeSettings) -> None:
        self.socket = free_socket()
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(create_app(bundle, settings, threads=1), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


@pytest.fixture(scope="session")
def serve(bundle: Path) -> Iterator[Callable[..., str]]:
    """``serve(**settings) -> url``: one server per distinct settings, shared by the tests in a session."""
    servers: dict[tuple, ServerThread] = {}

    def start(**kwargs: object) -> str:
        key = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
        if key not in servers:
            servers[key] = ServerThread(bundle, ServeSettings(**kwargs)).__enter__()
        return servers[key].url

    yield start
    for server in servers.values():
        server.__exit__()


@pytest.fixture
def port() -> int:
    return free_port()
