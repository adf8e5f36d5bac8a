"""Running a service until SIGTERM or SIGINT: the one loop the async deployables share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger("rtinfer.lifecycle")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run_until_signal(
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    *,
    shutdown_timeout_s: float | None = None,
) -> None:
    """Start, wait for SIGTERM or SIGINT, then stop (within `shutdown_timeout_s` when given)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    try:
        await start()
        await stopping.wait()
        if shutdown_timeout_s is None:
            log.info("stopping")
            await stop()
        else:
            log.info("stopping within %.0fs", shutdown_timeout_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop(), shutdown_timeout_s)
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
