"""Interop with the official cloudevents SDK, both ways, Kafka and HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from cloudevents import http as sdk_http
from cloudevents import kafka as sdk_kafka
from cloudevents.conversion import to_binary as sdk_http_to_binary
from cloudevents.conversion import to_structured as sdk_http_to_structured
from hypothesis import HealthCheck, assume, given, settings

from events import Decoded, Event, Mode, decode_http, decode_kafka, encode_http, encode_kafka
from events.testing import any_events
from events.wire import attribute_pairs, format_time, payload_json

pytestmark = pytest.mark.unit

QUICK = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _expected_attributes(event: Event[Any]) -> dict[str, str]:
    return dict(attribute_pairs(event))


def _sdk_event(event: Event[Any]) -> sdk_http.CloudEvent:
    attributes: dict[str, Any] = {**_expected_attributes(event), "datacontenttype": "application/json"}
    return sdk_http.CloudEvent(attributes, orjson.loads(payload_json(event)))


def _assert_same(sdk_event: Any, event: Event[Any], *, skip: tuple[str, ...] = ()) -> None:
    for name, value in _expected_attributes(event).items():
        if name not in skip:
            assert sdk_event[name] == value, name
    assert sdk_event.get_data() == orjson.loads(payload_json(event))


@QUICK
@given(any_events)
def test_sdk_reads_our_kafka_binary(event: Event[Any]) -> None:
    record = encode_kafka(event)
    sdk_event = sdk_kafka.from_binary(sdk_kafka.KafkaMessage(dict(record.headers), record.key, record.value))
    _assert_same(sdk_event, event, skip=("partitionkey",))
    assert sdk_event["time"] == format_time(event.time)
    assert sdk_event.get("partitionkey") == record.key  # the SDK hands the key over as is
    assert sdk_event["datacontenttype"] == "application/json"


@QUICK
@given(any_events)
def test_sdk_reads_our_kafka_structured(event: Event[Any]) -> None:
    record = encode_kafka(event, Mode.STRUCTURED)
    sdk_event = sdk_kafka.from_structured(
        sdk_kafka.KafkaMessage(dict(record.headers), record.key, record.value)
    )
    _assert_same(sdk_event, event, skip=("partitionkey",))


@QUICK
@given(any_events)
def test_sdk_reads_our_http_binary_and_structured(event: Event[Any]) -> None:
    headers, body = encode_http(event)
    binary = sdk_http.from_http(headers, body)
    # The SDK does not undo the binding's percent-encoding of header values.
    for name, value in _expected_attributes(event).items():
        assert unquote(binary[name]) == value, name
    assert binary.get_data() == orjson.loads(body)
    _assert_same(sdk_http.from_http(*encode_http(event, Mode.STRUCTURED)), event)


@QUICK
@given(any_events)
def test_we_read_sdk_kafka_binary_and_structured(event: Event[Any]) -> None:
    for message in (sdk_kafka.to_binary(_sdk_event(event)), sdk_kafka.to_structured(_sdk_event(event))):
        key = message.key.encode() if isinstance(message.key, str) else message.key
        value = message.value.encode() if isinstance(message.value, str) else message.value
        decoded = decode_kafka(key, value, list(message.headers.items()))
        assert isinstance(decoded, Decoded), decoded
        assert decoded.event == event


@QUICK
@given(any_events)
def test_we_read_sdk_http_binary_and_structured(event: Event[Any]) -> None:
    # The SDK sends header values unencoded; a literal "%XX" would be read as an escape.
    assume(all("%" not in value for _, value in attribute_pairs(event)))
    for headers, body in (sdk_http_to_binary(_sdk_event(event)), sdk_http_to_structured(_sdk_event(event))):
        [decoded] = decode_http(headers, body)
        assert isinstance(decoded, Decoded), decoded
        assert decoded.event == event
