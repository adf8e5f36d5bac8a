"""Traces at sampling cost: a span per event only where the producer's context is sampled; an
unsampled event costs no span and passes its context on unchanged; the batch span links all."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from events import KafkaOrigin
from events.testing import sample_payment_event
from services.adapters.tracing import make_tracer_provider
from services.core.scoring.pipeline import ScoringItem
from services.scoring.runtime import ScoringRuntime
from tests.unit.scoring.fakes import FakeFeatures, hours
from tests.unit.scoring.test_runtime_invariant import RecordingPublisher
from tests.unit.scoring.test_runtime_invariant import _runtime as invariant_runtime

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e47{:02x}"


def _item(index: int, flags: str | None) -> ScoringItem:
    event = sample_payment_event(payment_id=f"pay-{index}", card_id=f"card-{index}", timestamp=NOW)
    if flags is not None:
        event = dataclasses.replace(event, traceparent=f"00-{TRACE.format(index)}-00f067aa0ba902b7-{flags}")
    return ScoringItem(event, KafkaOrigin(topic="payments", partition=0, offset=index), NOW)


async def _runtime(exporter: InMemorySpanExporter, publish: RecordingPublisher) -> ScoringRuntime:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    features = FakeFeatures({f"card-{i}": {"card_count_1h": 1.0} for i in range(10)}, NOW - hours(1))
    return await invariant_runtime(features, publish, provider.get_tracer("test"))


async def test_only_sampled_events_get_spans_and_unsampled_pass_their_context_on() -> None:
    exporter, publish = InMemorySpanExporter(), RecordingPublisher()
    runtime = await _runtime(exporter, publish)
    items = [_item(0, "01"), _item(1, "00"), _item(2, "00"), _item(3, "01")]

    await runtime.handle(items, [])

    spans = exporter.get_finished_spans()
    per_event = [span for span in spans if span.name == "score"]
    assert sorted(f"{span.context.trace_id:032x}" for span in per_event) == [TRACE.format(0), TRACE.format(3)]
    stages = [span for span in spans if span.name.startswith("stage ")]
    assert {f"{span.context.trace_id:032x}" for span in stages} == {TRACE.format(0), TRACE.format(3)}
    [batch] = [span for span in spans if span.name == "score batch"]
    assert len(batch.links) == 4  # the batch span links every input, sampled or not

    by_input = {event.causationid: event for event in publish.sent["predictions"]}
    for item in items:
        carried = by_input[item.event.id].traceparent
        assert carried is not None and carried.split("-")[1] == item.event.traceparent.split("-")[1]  # type: ignore[union-attr]
        if item.event.traceparent.endswith("-00"):  # type: ignore[union-attr]
            assert carried == item.event.traceparent  # unchanged: no span of ours in between
        else:
            assert carried != item.event.traceparent  # a child: our `score` span


async def test_an_event_without_context_starts_a_trace_the_sampler_keeps() -> None:
    exporter, publish = InMemorySpanExporter(), RecordingPublisher()
    runtime = await _runtime(exporter, publish)

    await runtime.handle([_item(5, None)], [])

    [span] = [span for span in exporter.get_finished_spans() if span.name == "score"]
    [prediction] = publish.sent["predictions"]
    assert prediction.traceparent is not None and f"{span.context.trace_id:032x}" in prediction.traceparent


def test_a_provider_with_nowhere_to_send_spans_records_none() -> None:
    idle = make_tracer_provider("rtinfer-test")
    with idle.get_tracer("t").start_as_current_span("score") as span:
        assert not span.is_recording()
    exporter = InMemorySpanExporter()
    kept = make_tracer_provider("rtinfer-test", extra=SimpleSpanProcessor(exporter))
    with kept.get_tracer("t").start_as_current_span("score") as span:
        assert span.is_recording()
    assert [span.name for span in exporter.get_finished_spans()] == ["score"]
