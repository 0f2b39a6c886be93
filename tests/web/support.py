"""Helpers for the web tests: serving a site on a free loopback port and driving the browser script."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lightship.web import make_server

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def serving(site: Path) -> Iterator[str]:
    """Serve ``site`` (with the isolation headers) on a free port; yields its URL."""
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def run_node(node: str, script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``script`` run to its end; past ``timeout`` seconds, a failure that shows what it printed so far."""
    try:
        return subprocess.run(
            [node, str(REPO / script), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as stopped:
        printed = b"".join(part or b"" for part in (stopped.stdout, stopped.stderr)).decode(errors="replace")
        raise AssertionError(f"{script} ran past {timeout:.0f} s; it printed:\n{printed[-3000:]}") from None


def run_browser(node: str, url: str, files: list[Path], *extra: str) -> dict:
    """The JSON report of web/tools/browser.mjs for ``url`` after uploading ``files`` (every wait in it is
    bounded by 180 s; the offline run has five, hence the longer limit here)."""
    done = run_node(node, "web/tools/browser.mjs", "--url", url, *extra, *map(str, files), timeout=600)
    assert done.returncode == 0, f"browser driver failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)
