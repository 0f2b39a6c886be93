"""The server's knobs in one validated object, shared by the app factory and the command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lightship.errors import LightshipError
from lightship.images import PixelLimits

MEGA = 1_000_000


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
    max_image_mp: float = 100.0
    max_aspect: float = 50.0
    max_request_mp: float = 200.0
    decoded_budget_mp: float = 64.0
    public_metrics: bool = False
    parallel_calls: int = 1

    def __post_init__(self) -> None:
        # Checked here, not deep in a request, so a bad flag stops the command before it binds a port.
        checks = {
            "max_batch must be >= 1": self.max_batch >= 1,
            "max_wait_ms must be >= 0": self.max_wait_ms >= 0,
            "queue_size must be >= 1": self.queue_size >= 1,
            "timeout_s must be > 0": self.timeout_s > 0,
            "max_upload_mb must be > 0": self.max_upload_mb > 0,
            "max_batch_files must be >= 1": self.max_batch_files >= 1,
            "max_image_mp must be > 0": self.max_image_mp > 0,
            "max_aspect must be >= 1": self.max_aspect >= 1,
            "max_request_mp must be >= max_image_mp": self.max_request_mp >= self.max_image_mp,
            "decoded_budget_mp must be > 0": self.decoded_budget_mp > 0,
            "parallel_calls must be >= 1": self.parallel_calls >= 1,
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

    def pixel_limits(self, bound: dict | None = None) -> PixelLimits:
        """The per-image budgets, under the served artifact's own input ``bound`` where it has one."""
        return PixelLimits(int(self.max_image_mp * MEGA), self.max_aspect).capped(bound)
