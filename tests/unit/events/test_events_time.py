"""CloudEvents `time` is optional: events without it are read, and get an event time in a fixed
order: the `time` attribute, else the payload's own timestamp, else the receive time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from events import (
    EVENT_TYPES,
    Decision,
    Decoded,
    DecodeFailure,
    Event,
    KafkaOrigin,
    Mode,
    Prediction,
    ReasonCode,
    TimeSource,
    dead_letter_event,
    decode_http,
    decode_kafka,
    encode_http,
    encode_kafka,
    original_input,
    prediction_event,
)
from events.testing import sample_payment_event
from events.wire import payload_json
from services.adapters.kafka.records import SourceRecord
from services.features.state import InMemoryCardState
from services.features.writer import FeatureWriter

pytestmark = pytest.mark.unit

PAYMENT = sample_payment_event()  # its payload timestamp: 2025-03-01T12:00:00Z
RECEIVED = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


def _without_ce_time(event: Event[Any]) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    record = encode_kafka(event)
    return record.key, record.value, [(name, raw) for name, raw in record.headers if name != "ce_time"]


def _prediction_event() -> Event[Any]:
    """A prediction: a type whose payload has no timestamp of its own."""
    prediction = Prediction(
        input_id=PAYMENT.id,
        input_source=PAYMENT.source,
        entity={"card_id": PAYMENT.data.card_id},
        score=0.25,
        decision=Decision.APPROVE,
        threshold=0.5,
        model_name="fraud",
        model_version="1",
    )
    return prediction_event(PAYMENT, prediction, source="//scorer", time=RECEIVED - timedelta(hours=1))


def test_binary_kafka_event_without_ce_time_is_accepted() -> None:
    key, value, headers = _without_ce_time(PAYMENT)

    result = decode_kafka(key, value, headers, received_at=RECEIVED)

    assert isinstance(result, Decoded), result
    assert result.mode is Mode.BINARY
    assert result.event.time == PAYMENT.data.timestamp
    assert result.event.time_source is TimeSource.PAYLOAD
    assert (result.event.id, result.event.data) == (PAYMENT.id, PAYMENT.data)


def test_structured_http_event_without_time_is_accepted() -> None:
    headers, body = encode_http(PAYMENT, Mode.STRUCTURED)
    envelope = orjson.loads(body)
    del envelope["time"]

    [result] = decode_http(headers, orjson.dumps(envelope), received_at=RECEIVED)

    assert isinstance(result, Decoded), result
    assert result.mode is Mode.STRUCTURED
    assert result.event.time == PAYMENT.data.timestamp
    assert result.event.time_source is TimeSource.PAYLOAD


def test_binary_http_and_structured_kafka_without_time_are_accepted() -> None:
    headers, body = encode_http(PAYMENT)
    del headers["ce-time"]
    [http] = decode_http(headers, body)
    record = encode_kafka(PAYMENT, Mode.STRUCTURED)
    envelope = orjson.loads(record.value)
    del envelope["time"]
    kafka = decode_kafka(record.key, orjson.dumps(envelope), list(record.headers))
    for result in (http, kafka):
        assert isinstance(result, Decoded), result
        assert (result.event.time, result.event.time_source) == (PAYMENT.data.timestamp, TimeSource.PAYLOAD)


def test_fallback_order_attribute_then_payload_then_receive_time() -> None:
    # 1. The time attribute, even when the payload says otherwise.
    later = PAYMENT.data.timestamp + timedelta(seconds=5)
    record = encode_kafka(PAYMENT)
    headers = [(n, b"2025-03-01T12:00:05Z" if n == "ce_time" else raw) for n, raw in record.headers]
    first = decode_kafka(record.key, record.value, headers, received_at=RECEIVED)
    assert isinstance(first, Decoded)
    assert (first.event.time, first.event.time_source) == (later, TimeSource.ATTRIBUTE)

    # 2. No time attribute: the payload's own timestamp, not the receive time.
    second = decode_kafka(*_without_ce_time(PAYMENT), received_at=RECEIVED)
    assert isinstance(second, Decoded)
    assert (second.event.time, second.event.time_source) == (PAYMENT.data.timestamp, TimeSource.PAYLOAD)

    # 3. No time attribute and a payload without a timestamp of its own: the receive time.
    prediction = _prediction_event()
    assert EVENT_TYPES[prediction.type].time_field is None
    third = decode_kafka(*_without_ce_time(prediction), received_at=RECEIVED)
    assert isinstance(third, Decoded), third
    assert (third.event.time, third.event.time_source) == (RECEIVED, TimeSource.RECEIVED)


def test_receive_time_defaults_to_the_clock_and_must_be_aware() -> None:
    prediction = _prediction_event()
    before = datetime.now(UTC)
    result = decode_kafka(*_without_ce_time(prediction))
    after = datetime.now(UTC)
    assert isinstance(result, Decoded)
    assert before <= result.event.time <= after and result.event.time_source is TimeSource.RECEIVED

    naive = decode_kafka(*_without_ce_time(prediction), received_at=datetime(2026, 1, 1))  # noqa: DTZ001
    assert isinstance(naive, DecodeFailure) and naive.reason is ReasonCode.INTERNAL
    # A naive receive time is not looked at when the event has a time of its own.
    assert isinstance(decode_kafka(*_without_ce_time(PAYMENT), received_at=datetime(2026, 1, 1)), Decoded)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("type_name", "path"),
    [
        ("dev.rtinfer.payment.authorized.v1", "timestamp"),
        ("dev.rtinfer.label.v1", "label_time"),
        ("dev.rtinfer.deadletter.v2", "first_seen"),
        ("dev.rtinfer.drift.report.v1", "window.end"),
        ("dev.rtinfer.drift.alert.v1", "window.end"),
        ("dev.rtinfer.prediction.v1", None),
        ("dev.rtinfer.explanation.v1", None),
    ],
)
def test_each_type_names_its_own_timestamp(type_name: str, path: str | None) -> None:
    assert EVENT_TYPES[type_name].time_field == path


def test_batch_items_without_time_get_the_request_receive_time() -> None:
    prediction = _prediction_event()
    item = orjson.loads(encode_http(prediction, Mode.STRUCTURED)[1])
    del item["time"]
    body = orjson.dumps([item, orjson.loads(encode_http(PAYMENT, Mode.STRUCTURED)[1])])

    first, second = decode_http(
        {"content-type": "application/cloudevents-batch+json"}, body, received_at=RECEIVED
    )

    assert isinstance(first, Decoded) and isinstance(second, Decoded)
    assert (first.event.time, first.event.time_source) == (RECEIVED, TimeSource.RECEIVED)
    assert (second.event.time, second.event.time_source) == (PAYMENT.time, TimeSource.ATTRIBUTE)


def test_an_event_without_time_is_encoded_without_time() -> None:
    decoded = decode_kafka(*_without_ce_time(PAYMENT), received_at=RECEIVED)
    assert isinstance(decoded, Decoded)
    event = decoded.event

    record = encode_kafka(event)
    assert "ce_time" not in dict(record.headers)
    assert "time" not in orjson.loads(encode_kafka(event, Mode.STRUCTURED).value)
    assert "ce-time" not in encode_http(event)[0]
    assert "time" not in orjson.loads(encode_http(event, Mode.STRUCTURED)[1])
    again = decode_kafka(record.key, record.value, list(record.headers))
    assert isinstance(again, Decoded) and again.event == event


def test_a_dead_letter_keeps_the_original_without_time() -> None:
    key, value, headers = _without_ce_time(PAYMENT)
    decoded = decode_kafka(key, value, headers)
    assert isinstance(decoded, Decoded)

    letter = dead_letter_event(
        decoded.event,
        origin=KafkaOrigin(topic="payments", partition=0, offset=7),
        stage="enrich",
        first_seen=RECEIVED,
        source="//t",
        reason=ReasonCode.TIMEOUT,
    )

    original = original_input(letter.data)
    assert (original.value, original.key) == (value, key)
    assert original.headers == tuple(headers)
    assert value == payload_json(PAYMENT)


def test_bad_times_are_still_refused() -> None:
    record = encode_kafka(PAYMENT)
    headers = [(n, b"yesterday" if n == "ce_time" else raw) for n, raw in record.headers]
    result = decode_kafka(record.key, record.value, headers)
    assert isinstance(result, DecodeFailure)
    assert (result.reason, result.field) == (ReasonCode.BAD_ATTRIBUTE, "ce_time")


async def test_time_out_of_range_still_applies_to_a_payment_without_time() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    letters: list[Event[Any]] = []

    async def sink(events: Any) -> None:
        letters.extend(events)

    class Pusher:
        async def push(self, rows: Any) -> None:
            return None

    writer = FeatureWriter(InMemoryCardState(), Pusher(), sink, source="//t", clock=lambda: now)
    future = sample_payment_event(payment_id="p-2099", timestamp=datetime(2099, 1, 1, tzinfo=UTC))
    key, value, headers = _without_ce_time(future)

    report = await writer.process([SourceRecord("payments", 0, 0, key, value, headers)])

    assert report.dead_lettered == 1 and report.counted == 0
    [letter] = letters
    assert (letter.data.reason, letter.data.field) == ("time_out_of_range", "timestamp")
