"""``lightship serve``: a FastAPI/uvicorn server for a bundle with dynamic micro-batching, limits, optional
bearer auth and Prometheus metrics. See docs/serving.md."""

from lightship.serve.app import create_app
from lightship.serve.command import serve_command
from lightship.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app", "serve_command"]
