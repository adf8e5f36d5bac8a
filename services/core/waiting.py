"""Waiting for a count that another task raises, without polling."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable


async def wait_for_count(
    current: Callable[[], int], changed: asyncio.Event, count: int, timeout_s: float, what: str
) -> None:
    """Return once `current()` reaches `count`; the other task sets `changed` after each rise.

    Raises TimeoutError naming `what` when `timeout_s` passes first.
    """
    deadline = time.monotonic() + timeout_s
    while current() < count:
        changed.clear()
        if (remaining := deadline - time.monotonic()) <= 0:
            raise TimeoutError(f"{what}: {current()} of {count} after {timeout_s}s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)
