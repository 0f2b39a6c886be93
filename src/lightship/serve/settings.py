"""The server's knobs in one validated object, shared by the app factory and the command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lightship.errors import LightshipError


@dataclass(frozen=True)
class ServeSettings:
    """How one server process batches, limits and protects requests (see ``serve_command`` for meanings)."""

    max_batch: int = 32
    max_wait_ms: float = 5.0
    queue_size: int = 512
    timeout_s: float = 10.0
    token: str | None = None
    max_upload_mb: float = 10.0
    cors: tuple[str, ...] = ()
    site: Path | None = None
    max_batch_files: int = 256

    def __post_init__(self) -> None:
        # Checked here, not deep in a request, so a bad flag stops the command before it binds a port.
        checks = {
            "max_batch must be >= 1": self.max_batch >= 1,
            "max_wait_ms must be >= 0": self.max_wait_ms >= 0,
            "queue_size must be >= 1": self.queue_size >= 1,
            "timeout_s must be > 0": self.timeout_s > 0,
            "max_upload_mb must be > 0": self.max_upload_mb > 0,
            "max_batch_files must be >= 1": self.max_batch_files >= 1,
            "token must not be empty (omit it to turn auth off)": self.token is None or self.token != "",
        }
        problems = [message for message, ok in checks.items() if not ok]
        if problems:
            raise LightshipError("; ".join(problems))
        if self.site is not None and not (self.site / "index.html").is_file():
            raise LightshipError(
                f"--site {self.site} has no index.html; build it with `lightship web BUNDLE --out {self.site}`"
            )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
