"""``lightship web``: a bundle as a static web app that classifies images in the browser (LiteRT.js and
onnxruntime-web).

The app's source is ``web/`` in the repository (built with npm into ``web/dist``); this package copies
the built app and the bundle's artifacts the page runs into a site folder and can serve it. See ``docs/web.md``.
"""

from lightship.web.command import web_command
from lightship.web.server import make_server
from lightship.web.site import build_site

__all__ = ["build_site", "make_server", "web_command"]
