"""A loopback TCP proxy whose faults are switched while traffic flows through it.

Put between a service and one of its dependencies (Redis, the model server, Weaviate's REST or
gRPC port), it forwards bytes both ways and can, at any moment:

- delay: hold every chunk `delay_s` before forwarding it (a slow network or a slow server);
- stall: forward nothing until resumed (a server that accepted the request and hangs);
- answer 503: cut the open connections and answer every new HTTP request
  `503 Service Unavailable` and close (what Knative's activator or a load balancer says while
  the pods behind it are unavailable).

It runs its own event loop in a thread, so a test's loop and blocking calls do not disturb it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n\r\nservice unavailable\r\n"
)


@dataclass
class ProxyCounters:
    connections: int = 0
    answered_503: int = 0
    cut: int = 0
    delayed_chunks: int = 0
    stalled_s: float = 0.0


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, name: str = "proxy") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.name = name
        self.port = 0
        self.counters = ProxyCounters()
        self._delay_s = 0.0
        self._stalled = False
        self._http_503 = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"fault-proxy-{name}", daemon=True
        )
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._resumed: asyncio.Event | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._open):
                writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def set(self, *, delay_s: float = 0.0, stalled: bool = False, http_503: bool = False) -> None:
        """Switch the faults (all off by default: a transparent proxy)."""

        def apply() -> None:
            self._delay_s = delay_s
            self._stalled = stalled
            assert self._resumed is not None
            if stalled:
                self._resumed.clear()
            else:
                self._resumed.set()
            if http_503 and not self._http_503:
                for writer in list(self._open):  # requests in flight on open connections fail too
                    self.counters.cut += 1
                    writer.close()
            self._http_503 = http_503

        self._loop.call_soon_threadsafe(apply)

    async def _listen(self) -> None:
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        if self._http_503:
            await self._answer_503(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            for side in (writer, up_writer):
                self._open.discard(side)
                side.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        assert self._resumed is not None
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(65536):
                if not self._resumed.is_set():
                    started = self._loop.time()
                    await self._resumed.wait()
                    self.counters.stalled_s += self._loop.time() - started
                if self._delay_s:
                    self.counters.delayed_chunks += 1
                    await asyncio.sleep(self._delay_s)
                if sink.is_closing():
                    return
                sink.write(chunk)
                await sink.drain()
        sink.close()

    async def _answer_503(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(
            ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError
        ):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            self.counters.answered_503 += 1
            writer.write(UNAVAILABLE)
            await writer.drain()
        writer.close()


@contextlib.contextmanager
def fault_proxy(host: str, port: int, name: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(host, port, name).start()
    try:
        yield proxy
    finally:
        proxy.stop()
