"""HTTP push ingress for Knative (KafkaSource, Broker/Trigger): the same pipeline over HTTP.

Data-plane contract: 2xx only after the outputs are acknowledged by Kafka; 400 for an event
that can never succeed (it is also dead-lettered); 429 when too many requests are in
flight; 503 when a dependency is down, so the sender retries.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events import Decoded, HttpOrigin, Mode, decode_http, encode_http
from services.core.scoring.pipeline import ScoringItem
from services.scoring.runtime import DependencyDown, RejectedInput, ScoringRuntime

ReadyCheck = Callable[[], Awaitable[dict[str, str]]]


def build_http_app(
    runtime: Callable[[], ScoringRuntime | None],
    ready: ReadyCheck,
    *,
    max_in_flight: int,
    max_event_bytes: int,
    reply_with_prediction: bool,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    slots = asyncio.Semaphore(max_in_flight)

    async def ingest(request: Request) -> Response:
        current = runtime()
        if current is None:
            return _error(503, "starting", retry_after=2)
        if slots.locked():
            return _error(429, "too many requests in flight", retry_after=1)
        async with slots:
            body = await request.body()
            results = decode_http(list(request.headers.items()), body, max_bytes=max_event_bytes)
            origin = HttpOrigin(path=request.url.path, remote=request.client.host if request.client else None)
            received = clock()
            items = [ScoringItem(r.event, origin, received) for r in results if isinstance(r, Decoded)]
            rejected = [RejectedInput(r, origin) for r in results if not isinstance(r, Decoded)]
            try:
                handled = await current.handle(items, rejected)
            except DependencyDown as error:
                return _error(503, str(error), retry_after=max(1, round(error.retry_after_s)))
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
