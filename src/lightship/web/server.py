"""Serving a site on loopback with the cross-origin isolation headers that let onnxruntime-web use
WebAssembly threads (SharedArrayBuffer); the standard library's http.server, for local use."""

from __future__ import annotations

import os
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with isolation headers and the MIME types browsers insist on (.mjs, .wasm).

    Folders are never listed (a folder without index.html is a 404), so nothing but the site's own files
    is ever shown.
    """

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".onnx": "application/octet-stream",
        ".json": "application/json",
    }

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "Not found")

    def end_headers(self) -> None:
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: only failed requests are logged."""
        if str(getattr(code, "value", code)).startswith(("4", "5")):
            super().log_request(code, size)


class SiteServer(ThreadingHTTPServer):
    """Quiet when a browser drops a connection mid-response (it cancels fetches it no longer needs)."""

    def handle_error(self, request: object, client_address: tuple) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(site: Path, host: str = "127.0.0.1", port: int = 8080) -> SiteServer:
    """A server for ``site`` bound to ``host:port`` (port 0 picks a free one); call ``serve_forever``."""
    return SiteServer((host, port), partial(SiteHandler, directory=str(site)))
