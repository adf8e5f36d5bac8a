"""Every type survives every binding and mode: encode then decode gives the same event."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import EVENT_TYPES, Decoded, Event, Mode, decode_http, decode_kafka, encode_http, encode_kafka
from events.http_binding import encode_http_batch
from events.testing import any_events, events_of, sample_payment_event

pytestmark = pytest.mark.unit

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPE_NAMES = sorted(EVENT_TYPES)


def _only_event(results: list[Any]) -> Event[Any]:
    [result] = results
    assert isinstance(result, Decoded), result
    return result.event


@pytest.mark.parametrize("type_name", TYPE_NAMES)
@pytest.mark.parametrize("mode", [Mode.BINARY, Mode.STRUCTURED])
@QUICK
@given(data=st.data())
def test_kafka_round_trip(type_name: str, mode: Mode, data: st.DataObject) -> None:
    event = data.draw(events_of(type_name))
    record = encode_kafka(event, mode)
    decoded = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(decoded, Decoded), decoded
    assert decoded.mode is mode
    assert decoded.event == event


@pytest.mark.parametrize("type_name", TYPE_NAMES)
@pytest.mark.parametrize("mode", [Mode.BINARY, Mode.STRUCTURED])
@QUICK
@given(data=st.data())
def test_http_round_trip(type_name: str, mode: Mode, data: st.DataObject) -> None:
    event = data.draw(events_of(type_name))
    headers, body = encode_http(event, mode)
    assert _only_event(decode_http(headers, body)) == event


@QUICK
@given(st.lists(any_events, max_size=5))
def test_http_batch_round_trip(events: list[Event[Any]]) -> None:
    headers, body = encode_http_batch(events)
    results = decode_http(headers, body)
    assert all(isinstance(result, Decoded) and result.mode is Mode.BATCH for result in results)
    assert [result.event for result in results if isinstance(result, Decoded)] == events


@QUICK
@given(any_events)
def test_http_headers_may_come_as_raw_bytes(event: Event[Any]) -> None:
    headers, body = encode_http(event)
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    assert _only_event(decode_http(raw, body)) == event


@QUICK
@given(any_events)
def test_http_header_names_are_case_insensitive(event: Event[Any]) -> None:
    headers, body = encode_http(event)
    shouted = {name.upper(): value for name, value in headers.items()}
    assert _only_event(decode_http(list(shouted.items()), body)) == event


def test_binary_headers_follow_the_kafka_binding() -> None:
    event = sample_payment_event()
    record = encode_kafka(event)
    names = [name for name, _ in record.headers]
    assert names[:6] == ["content-type", "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"]
    assert dict(record.headers)["content-type"] == b"application/json"
    assert record.key == b"card-42"
    assert "ce_partitionkey" not in names  # carried by the key


def test_http_binary_percent_encodes_unsafe_characters() -> None:
    event = replace(sample_payment_event(), source='a "b" 100% é')
    headers, body = encode_http(event)
    assert headers["ce-source"] == "a%20%22b%22%20100%25%20%C3%A9"
    assert _only_event(decode_http(headers, body)) == event
