"""One trace per payment: producer span -> scoring span and stage spans -> outputs."""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from events import Decoded, decode_kafka
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.tracing import make_tracer_provider
from services.scoring.app import ScoringApp
from tests.integration.kafka_helpers import create_topics, read_all, wait_caught_up
from tests.integration.scoring_env import ScoringEnv


def _trace_id(traceparent: str | None) -> str:
    assert traceparent, "missing traceparent"
    return traceparent.split("-")[1]


async def test_one_trace_id_from_producer_to_outputs(env: ScoringEnv) -> None:
    exporter = InMemorySpanExporter()
    provider = make_tracer_provider("tests", extra=SimpleSpanProcessor(exporter))
    settings = env.settings("trace", explain_always=True)
    t = settings.topics
    await create_topics(settings.kafka.bootstrap, t.payments, t.predictions, t.explanations, t.dlq)
    records = list(
        payment_records(env.payments.iloc[:50], "/tests/producer", tracer=provider.get_tracer("producer"))
    )
    service = ScoringApp(settings, ingress="kafka", tracer_provider=provider)
    await service.start()
    try:
        await produce_records(records, kafka=KafkaSettings(bootstrap=env.kafka.bootstrap), topic=t.payments)
        await wait_caught_up(env.kafka.bootstrap, settings.group_id, t.payments, timeout_s=60)
        await service.runtime.explanations.drain(10)
        await asyncio.sleep(0.5)
        predictions = await read_all(env.kafka.bootstrap, t.predictions, 50)
        explanations = await read_all(env.kafka.bootstrap, t.explanations, 50)
    finally:
        await service.stop()

    sent = {}
    for record in records:
        headers = dict(record.headers)
        sent[headers["ce_id"].decode()] = _trace_id(headers["ce_traceparent"].decode())
    spans = exporter.get_finished_spans()
    by_trace: dict[str, set[str]] = {}
    for span in spans:
        by_trace.setdefault(format(span.context.trace_id, "032x"), set()).add(span.name)
    decoded_predictions = [
        d.event
        for d in (decode_kafka(r.key, r.value, r.headers) for r in predictions)
        if isinstance(d, Decoded)
    ]
    assert len(decoded_predictions) == 50
    prediction_trace = {}
    for prediction in decoded_predictions:
        trace_id = _trace_id(prediction.traceparent)
        assert trace_id == sent[prediction.data.input_id]
        names = by_trace[trace_id]
        assert {"publish payments", "score", "stage enrich", "stage model", "stage vectors"} <= names, names
        prediction_trace[prediction.id] = trace_id
    decoded_explanations = [
        d.event
        for d in (decode_kafka(r.key, r.value, r.headers) for r in explanations)
        if isinstance(d, Decoded)
    ]
    assert len(decoded_explanations) == 50
    for explanation in decoded_explanations:
        assert _trace_id(explanation.traceparent) == prediction_trace[explanation.causationid]
    batch_spans = [s for s in spans if s.name == "score batch"]
    assert batch_spans and all(len(s.links) >= 1 for s in batch_spans)
