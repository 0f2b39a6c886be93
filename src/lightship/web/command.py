"""``lightship web BUNDLE --out SITE [--serve]`` as a typed function (the CLI maps it with jsonargparse)."""

from __future__ import annotations

from pathlib import Path

from lightship.console import console, escape
from lightship.errors import check_port
from lightship.web.server import make_server
from lightship.web.site import build_site


def web_command(
    bundle: Path,
    out: Path,
    serve: bool = False,
    port: int = 8080,
    host: str = "127.0.0.1",
    allow_unverified: bool = False,
) -> int:
    """Write a static web app that classifies images in the browser with the bundle's model.

    The site (HTML/JS/CSS, onnxruntime-web's and LiteRT.js's WebAssembly files, the bundle's manifest.json
    and the artifacts the page runs) can be served by any static host and works offline after the first
    visit. See docs/web.md.

    Args:
        bundle: Bundle folder written by `lightship export` (needs the onnx or onnx-int8 artifact;
            web-litert makes the page faster on CPUs).
        out: Site folder to write (replaced when it holds an earlier `lightship web` site).
        serve: Then serve the site until Ctrl-C, with the cross-origin isolation headers that enable
            WebAssembly threads.
        port: Port to serve on (0 picks a free one).
        host: Address to serve on; keep the loopback default unless you mean to expose the site.
        allow_unverified: Build the site even when its ONNX artifact failed or lacks verification; the page
            still refuses it unless opened with ?allow-unverified=1, and then marks every result.

    Returns:
        The process exit code: 0.
    """
    check_port(port, allow_zero=True)
    out_console = console()
    site = build_site(bundle, out, allow_unverified)
    out_console.print(f"wrote the web app for {escape(bundle)} to [bold]{escape(site)}[/]", highlight=False)
    if allow_unverified:
        out_console.print(
            "[yellow]--allow-unverified:[/] if the page's artifact is unverified it refuses it unless opened "
            "with [bold]?allow-unverified=1[/], and then marks every result"
        )
    if not serve:
        return 0
    server = make_server(site, host, port)
    bound_host, bound_port = server.server_address[:2]
    out_console.print(
        f"serving {escape(site)} on [bold]http://{bound_host}:{bound_port}/[/] (Ctrl-C to stop)",
        highlight=False,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out_console.print("stopped")
    finally:
        server.server_close()
    return 0
