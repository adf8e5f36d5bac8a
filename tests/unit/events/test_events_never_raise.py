"""The decoders never raise, whatever bytes and headers arrive."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    Decoded,
    DecodeFailure,
    Mode,
    ReasonCode,
    decode_http,
    decode_kafka,
    encode_http,
    encode_kafka,
)
from events.testing import any_events, json_values

pytestmark = pytest.mark.unit

MANY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CE_NAMES = ["specversion", "id", "source", "type", "time", "subject", "dataschema", "partitionkey", "x"]
kafka_names = st.sampled_from([f"ce_{name}" for name in CE_NAMES] + ["content-type", "CE_ID"]) | st.text(
    max_size=12
)
http_names = st.sampled_from([f"ce-{name}" for name in CE_NAMES] + ["content-type", "Ce-Id"]) | st.text(
    max_size=12
)
content_types = st.sampled_from(
    [
        b"application/json",
        b"application/cloudevents+json",
        b"application/cloudevents-batch+json",
        b"application/cloudevents+avro",
        b"text/plain; charset=utf-8",
    ]
)
kafka_headers = st.lists(
    st.tuples(kafka_names, st.binary(max_size=24) | content_types | st.text(max_size=24).map(str.encode)),
    max_size=8,
)
# JSON objects that look like structured events, with anything in each attribute.
envelope_like = st.dictionaries(
    st.sampled_from([*CE_NAMES, "data", "data_base64", "datacontenttype"]) | st.text(max_size=6),
    json_values,
    max_size=10,
).map(orjson.dumps)


@st.composite
def mutated_records(draw: st.DrawFn) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """A valid record with its value cut, bytes flipped, or headers dropped."""
    event = draw(any_events)
    record = encode_kafka(event, draw(st.sampled_from([Mode.BINARY, Mode.STRUCTURED])))
    value = bytearray(record.value)
    for _ in range(draw(st.integers(0, 3))):
        if value:
            value[draw(st.integers(0, len(value) - 1))] = draw(st.integers(0, 255))
    value = value[: draw(st.integers(0, len(value)))]
    headers = [header for header in record.headers if draw(st.booleans())]
    return record.key, bytes(value), headers


def _check(result: Any) -> None:
    assert isinstance(result, Decoded | DecodeFailure)
    if isinstance(result, DecodeFailure):
        assert isinstance(result.reason, ReasonCode) and result.message


@MANY
@given(
    key=st.none() | st.binary(max_size=16),
    value=st.binary(max_size=256) | envelope_like,
    headers=kafka_headers,
)
def test_decode_kafka_never_raises_on_arbitrary_input(
    key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
) -> None:
    _check(decode_kafka(key, value, headers, max_bytes=512))


@MANY
@given(mutated_records())
def test_decode_kafka_never_raises_on_damaged_records(record: tuple[bytes | None, bytes, list[Any]]) -> None:
    _check(decode_kafka(*record))


@MANY
@given(
    headers=st.dictionaries(http_names, st.text(max_size=24) | content_types.map(bytes.decode), max_size=8),
    body=st.binary(max_size=256) | envelope_like | st.lists(json_values, max_size=3).map(orjson.dumps),
)
def test_decode_http_never_raises_on_arbitrary_input(headers: dict[str, str], body: bytes) -> None:
    results = decode_http(headers, body, max_bytes=512)
    assert isinstance(results, list)
    for result in results:
        _check(result)


@MANY
@given(any_events, st.sampled_from([Mode.BINARY, Mode.STRUCTURED]), st.integers(0, 2000))
def test_decode_http_never_raises_on_damaged_requests(event: Any, mode: Mode, cut: int) -> None:
    headers, body = encode_http(event, mode)
    for result in decode_http(headers, body[:cut]):
        _check(result)


@pytest.mark.parametrize(
    "arguments",
    [
        (None, None, []),
        ("key", "value", [("ce_id", "text")]),
        (b"k", b"{}", None),
        (b"k", b"{}", [("ce_id", None)]),
        (b"k", b"{}", [(None, b"x")]),
    ],
)
def test_decode_kafka_turns_wrong_argument_types_into_internal_failures(arguments: tuple[Any, ...]) -> None:
    result = decode_kafka(*arguments)
    assert isinstance(result, DecodeFailure)
    assert result.reason in set(ReasonCode)


@pytest.mark.parametrize("arguments", [(None, b"{}"), ({"ce-id": None}, b""), ([("a",)], b""), ({}, None)])
def test_decode_http_turns_wrong_argument_types_into_internal_failures(arguments: tuple[Any, ...]) -> None:
    [result] = decode_http(*arguments)
    assert isinstance(result, DecodeFailure)
