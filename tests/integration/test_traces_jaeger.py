"""One payment's trace in a real tracing backend: a producer span, the scoring service's spans
(a real `python -m services.scoring` process exporting OTLP/HTTP) and the outputs' trace
context, read back from Jaeger v2's query API.

Jaeger is the one `rtinfer stack up --with jaeger` would run, started here on free ports with a
state folder of its own (the shared stack is left alone), or the one RTINFER_OTLP_ENDPOINT and
RTINFER_JAEGER_QUERY_URL name (what `rtinfer stack env` prints while the stack's Jaeger runs).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from events import Decoded, decode_kafka
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from rtinfer.stack.jaeger import jaeger_binary
from rtinfer.stack.manager import Stack
from rtinfer.stack.process import StackError
from rtinfer.stack.settings import StackSettings
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.tracing import make_tracer_provider
from tests.integration.kafka_helpers import create_topics, read_all
from tests.integration.scoring_env import ScoringEnv
from tests.integration.scoring_process import start_scoring
from tests.servers import unavailable

STAGES = ("enrich", "model", "vectors", "decide")  # services/core/scoring/pipeline.py
PRODUCER_SERVICE = "rtinfer-tests-producer"
SCORING_SERVICE = "rtinfer-scoring"
# The service exports with a BatchSpanProcessor (OTEL_BSP_SCHEDULE_DELAY, 5 s by default) and
# the explanation comes after the prediction: spans arrive in more than one export.
TRACE_DEADLINE_S = 45.0
SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER = 4, 5  # OTLP's SpanKind numbers


@dataclass(frozen=True)
class Jaeger:
    otlp_endpoint: str  # OTLP/HTTP base URL (exporters add /v1/traces)
    query_url: str
    origin: str


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@pytest.fixture(scope="module")
def jaeger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaeger]:
    otlp, query = os.environ.get("RTINFER_OTLP_ENDPOINT"), os.environ.get("RTINFER_JAEGER_QUERY_URL")
    if otlp and query:
        yield Jaeger(otlp, query, "env")
        return
    query_port, query_grpc, otlp_grpc, otlp_http, health = _free_ports(5)
    settings = StackSettings(
        state_dir=tmp_path_factory.mktemp("jaeger-stack"),
        jaeger_port=query_port,
        jaeger_query_grpc_port=query_grpc,
        jaeger_otlp_grpc_port=otlp_grpc,
        jaeger_otlp_http_port=otlp_http,
        jaeger_health_port=health,
        jaeger_max_traces=1000,
    )
    if not jaeger_binary(settings).exists() and shutil.which("go") is None:
        unavailable("Jaeger", f"no binary at {jaeger_binary(settings)} and no go to build one")
    stack = Stack(settings, only=["jaeger"])
    try:
        stack.up()  # builds the binary first when the cache has none (minutes)
    except StackError as error:
        unavailable("Jaeger", f"native stack could not start it: {error}")
    try:
        yield Jaeger(settings.otlp_endpoint, settings.jaeger_query_url, "native")
    finally:
        stack.down()


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


def _spans_of(reply: dict[str, Any]) -> list[Span]:
    """The spans of an /api/v3/traces reply (OTLP JSON; ids in hex)."""
    spans = []
    for resource_spans in reply.get("result", {}).get("resourceSpans", []):
        resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                spans.append(
                    Span(
                        service=str(resource.get("service.name")),
                        name=span["name"],
                        kind=int(span.get("kind", 0)),
                        trace_id=span["traceId"].lower(),
                        span_id=span["spanId"].lower(),
                        parent_id=span.get("parentSpanId", "").lower(),
                        attributes=_attributes(span.get("attributes", [])),
                    )
                )
    return spans


def _attributes(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        value = pair.get("value", {})
        out[pair["key"]] = next(iter(value.values()), None) if value else None
    return out


def _complete(spans: list[Span]) -> bool:
    names = {span.name for span in spans}
    return {"publish payments", "score", *(f"stage {stage}" for stage in STAGES)} <= names


async def _trace(jaeger: Jaeger, trace_id: str) -> list[Span]:
    """The trace's spans once all expected ones are in, polling up to TRACE_DEADLINE_S."""
    deadline = time.monotonic() + TRACE_DEADLINE_S
    spans: list[Span] = []
    async with httpx.AsyncClient(base_url=jaeger.query_url, timeout=5.0) as client:
        while True:
            reply = await client.get(f"/api/v3/traces/{trace_id}")
            if reply.status_code == 200:
                spans = _spans_of(reply.json())
                if _complete(spans):
                    # One more export may still bring late spans of the same trace.
                    await asyncio.sleep(1.0)
                    final = await client.get(f"/api/v3/traces/{trace_id}")
                    return _spans_of(final.json()) if final.status_code == 200 else spans
            else:
                assert reply.status_code == 404, reply.text
            if time.monotonic() > deadline:
                names = sorted(span.name for span in spans)
                raise AssertionError(
                    f"trace {trace_id} incomplete in Jaeger after {TRACE_DEADLINE_S}s: {names}"
                )
            await asyncio.sleep(0.5)


def _traceparent(record: Any) -> tuple[str, str]:
    """(trace id, parent span id) of a record's ce_traceparent header."""
    value = dict(record.headers)["ce_traceparent"].decode()
    _version, trace_id, span_id, flags = value.split("-")
    assert int(flags, 16) & 1, f"{value} is not sampled"
    return trace_id, span_id


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the service flushes its spans on the way out
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


async def test_one_payment_is_one_trace_in_jaeger(env: ScoringEnv, jaeger: Jaeger, tmp_path: Path) -> None:
    started = time.monotonic()
    settings = env.settings("jaeger", otlp_endpoint=jaeger.otlp_endpoint, explain_always=True)
    t = settings.topics
    await create_topics(env.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)

    # The producer's span goes to Jaeger too: the trace starts where the payment is published.
    producer = make_tracer_provider(PRODUCER_SERVICE, jaeger.otlp_endpoint)
    [record] = payment_records(env.payments.iloc[:1], "/tests/jaeger", tracer=producer.get_tracer("producer"))
    producer.shutdown()  # exports the span now
    payment_id = dict(record.headers)["ce_id"].decode()
    trace_id, producer_span_id = _traceparent(record)
    await produce_records([record], kafka=KafkaSettings(bootstrap=env.kafka.bootstrap), topic=t.payments)

    log = tmp_path / "scoring.log"
    process = start_scoring(settings, log)
    try:
        [prediction] = await read_all(env.kafka.bootstrap, t.predictions, 1, timeout_s=90)
        [explanation] = await read_all(env.kafka.bootstrap, t.explanations, 1, timeout_s=60)
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        # While the service runs: its batch exporter must deliver without a shutdown.
        spans = await _trace(jaeger, trace_id)
    finally:
        _stop(process)

    decoded = decode_kafka(prediction.key, prediction.value, prediction.headers)
    assert isinstance(decoded, Decoded), decoded
    prediction_event = decoded.event
    assert prediction_event.data.input_id == payment_id

    # One trace: everything Jaeger holds under the id, and the outputs' trace context.
    assert {span.trace_id for span in spans} == {trace_id}
    assert _traceparent(prediction)[0] == trace_id
    assert _traceparent(explanation)[0] == trace_id
    by_id = {span.span_id: span for span in spans}
    assert len(by_id) == len(spans), "span ids repeat"

    # The producer span is the root.
    [published] = [span for span in spans if span.name == "publish payments"]
    assert (published.span_id, published.parent_id) == (producer_span_id, "")
    assert (published.service, published.kind) == (PRODUCER_SERVICE, SPAN_KIND_PRODUCER)
    assert published.attributes["messaging.message.id"] == payment_id

    # The scoring service's span for this payment, a child of the producer's.
    [score] = [span for span in spans if span.name == "score"]
    assert (score.service, score.kind, score.parent_id) == (
        SCORING_SERVICE,
        SPAN_KIND_CONSUMER,
        published.span_id,
    )
    assert score.attributes["messaging.message.id"] == payment_id
    assert score.attributes["rtinfer.prediction.id"] == prediction_event.id
    assert score.attributes["rtinfer.decision"] == prediction_event.data.decision.value

    # Its stages, each once, children of the score span.
    for stage in STAGES:
        [stage_span] = [span for span in spans if span.name == f"stage {stage}"]
        assert (stage_span.service, stage_span.parent_id) == (SCORING_SERVICE, score.span_id), stage

    # The published prediction carries the score span as its parent; the explanation continues
    # the same trace from a span of it (the score span, or a span of the explanation's own).
    assert _traceparent(prediction)[1] == score.span_id
    explained_from = by_id.get(_traceparent(explanation)[1])
    assert explained_from is not None, "the explanation's parent span is not in the trace"
    assert explained_from.service == SCORING_SERVICE

    # And no span hangs off a parent outside the trace: the root is the producer's span.
    orphans = [span.name for span in spans if span is not published and span.parent_id not in by_id]
    assert orphans == []
    print(
        f"trace {trace_id}: {len(spans)} spans via {jaeger.origin} Jaeger in {time.monotonic() - started:.1f}s"
    )
