"""What a consumer does with a batch it could not finish: never commit, back off, tell readiness.

The delivery invariant: every consumed record ends with its outputs acknowledged, its dead
letter acknowledged, or not committed (read again). A batch that fails for a reason nobody
foresaw is therefore nacked (the consumer seeks back) after a pause that grows with each
consecutive failure, so a bug cannot spin, and the service reports itself not ready while
its partitions make no progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class BatchFailures:
    """Consecutive failed batches of one consumer, the pause before the next try, readiness."""

    initial_pause_s: float = 1.0
    max_pause_s: float = 30.0
    stuck_after_s: float = 30.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    consecutive: int = 0
    total: int = 0
    since: datetime | None = None
    last_error: str = ""

    def failed(self, error: BaseException) -> float:
        """Record a failed batch; returns how long to pause before it is read again."""
        self.consecutive += 1
        self.total += 1
        self.since = self.since or self.clock()
        self.last_error = f"{type(error).__name__}: {error}"[:500]
        return min(self.max_pause_s, self.initial_pause_s * 2 ** (self.consecutive - 1))

    def succeeded(self) -> None:
        self.consecutive = 0
        self.since = None
        self.last_error = ""

    def check(self) -> None:
        """Raise (a failing readiness check) when batches have failed for `stuck_after_s`."""
        if self.since is None:
            return
        stuck_s = (self.clock() - self.since).total_seconds()
        if stuck_s >= self.stuck_after_s:
            raise RuntimeError(
                f"no batch committed for {stuck_s:.0f}s ({self.consecutive} failures in a row; "
                f"last: {self.last_error})"
            )
