"""HTTP push ingress for Knative (KafkaSource, Broker/Trigger): the same pipeline over HTTP.

Data-plane contract: 2xx only after the outputs are acknowledged by Kafka; 400 for an event
that can never succeed (it is also dead-lettered); 413 for a body or batch over its limit
(refused by Content-Length before a byte is read, or as soon as the stream passes the cap);
408 for a body not received within the read timeout; 429 when too many requests are in
flight; 503 with Retry-After when a dependency is down or anything unforeseen happened, so
the sender retries. Never 500 for what a client sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events import Decoded, HttpOrigin, Mode, decode_http, encode_http
from services.core.scoring.pipeline import ScoringItem
from services.scoring.runtime import DependencyDown, RejectedInput, ScoringRuntime

ReadyCheck = Callable[[], Awaitable[dict[str, str]]]
log = logging.getLogger("rtinfer.scoring.http")


@dataclass(frozen=True)
class HttpLimits:
    max_in_flight: int
    max_event_bytes: int
    max_body_bytes: int
    read_timeout_s: float
    max_batch_items: int


def build_http_app(
    runtime: Callable[[], ScoringRuntime | None],
    ready: ReadyCheck,
    *,
    limits: HttpLimits,
    reply_with_prediction: bool,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    slots = asyncio.Semaphore(limits.max_in_flight)

    async def ingest(request: Request) -> Response:
        current = runtime()
        if current is None:
            return _error(503, "starting", retry_after=2)
        body = await _read_body(request, limits)
        if isinstance(body, Response):
            return body
        # The slot is taken once the body is in: a slow sender holds a connection, not a slot.
        if slots.locked():
            return _error(429, "too many requests in flight", retry_after=1)
        async with slots:
            received = clock()
            results = decode_http(
                list(request.headers.items()), body, max_bytes=limits.max_event_bytes, received_at=received
            )
            if len(results) > limits.max_batch_items:
                return _error(413, f"{len(results)} events in one request, limit {limits.max_batch_items}")
            remote = request.client.host if request.client else None
            batch = _is_batch(request)
            items, rejected = [], []
            for index, result in enumerate(results):
                origin = HttpOrigin(path=request.url.path, remote=remote, item=index if batch else None)
                if isinstance(result, Decoded):
                    items.append(ScoringItem(result.event, origin, received))
                else:
                    rejected.append(RejectedInput(result, origin))
            try:
                handled = await current.handle(items, rejected)
            except DependencyDown as error:
                return _error(503, str(error), retry_after=max(1, round(error.retry_after_s)))
            except Exception as error:
                # Not the client's fault (bad input is dead-lettered): nothing was acknowledged,
                # so the sender retries and the event is not lost.
                log.exception("push request of %d events failed", len(results))
                return _error(503, f"internal error ({type(error).__name__}); retry", retry_after=5)
        reasons = [
            {"reason": str(r.failure.reason), "message": r.failure.message, "field": r.failure.field}
            for r in rejected
        ]
        if rejected and not items:
            return JSONResponse({"error": "invalid event", "rejected": reasons}, status_code=400)
        if reply_with_prediction and len(handled.scored) == 1 and not rejected:
            headers, payload = encode_http(handled.scored[0].prediction, Mode.BINARY)
            return Response(payload, status_code=200, headers=headers)
        return JSONResponse(
            {
                "accepted": len(handled.scored),
                "dead_lettered": len(handled.dead_letters),
                "rejected": reasons,
            },
            status_code=200,
        )

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_request: Request) -> Response:
        checks = await ready()
        ok = all(state == "ok" for state in checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    async def metrics(_request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/", ingest, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )


async def _read_body(request: Request, limits: HttpLimits) -> bytes | Response:
    """The body, read in chunks up to the cap and within the timeout, or the response refusing it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return _error(400, "Content-Length is not a number")
        if int(declared) > limits.max_body_bytes:
            return _error(413, f"body of {declared} bytes, limit {limits.max_body_bytes}")
    chunks: list[bytes] = []
    size = 0

    async def receive() -> bytes | None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        body = await asyncio.wait_for(receive(), limits.read_timeout_s)
    except TimeoutError:
        return _error(408, f"body not received within {limits.read_timeout_s:.0f}s")
    except ClientDisconnect:
        return _error(400, "client disconnected before the body was complete")
    if body is None:
        return _error(413, f"body over {limits.max_body_bytes} bytes")
    return body


def _is_batch(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == "application/cloudevents-batch+json"


def _error(status: int, message: str, retry_after: int | None = None) -> Response:
    headers = {"retry-after": str(retry_after)} if retry_after else {}
    return Response(
        json.dumps({"error": message}), status_code=status, headers=headers, media_type="application/json"
    )


async def run_checks(
    checks: dict[str, Callable[[], Awaitable[Any]]], timeout_s: float = 2.0
) -> dict[str, str]:
    """Run readiness probes concurrently; each says "ok" or why not."""

    async def one(check: Callable[[], Awaitable[Any]]) -> str:
        try:
            await asyncio.wait_for(check(), timeout_s)
        except Exception as error:
            return f"{type(error).__name__}: {error}"[:200]
        return "ok"

    names = list(checks)
    states = await asyncio.gather(*(one(checks[name]) for name in names))
    return dict(zip(names, states, strict=True))
