"""A corpus of malformed inputs, each mapped to the reason code (and field) it must produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

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
from events.testing import sample_payment_event

pytestmark = pytest.mark.unit

R = ReasonCode
EVENT = sample_payment_event()
BINARY = encode_kafka(EVENT)
STRUCTURED = encode_kafka(EVENT, Mode.STRUCTURED)
PAYLOAD = orjson.loads(BINARY.value)
ENVELOPE = orjson.loads(STRUCTURED.value)


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def binary(
    *,
    payload: Any = None,
    value: bytes | None = None,
    set_headers: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    add: list[tuple[str, bytes]] | None = None,
    key: bytes | None = BINARY.key,
) -> Record:
    """The sample binary record with the payload or headers changed."""
    replaced = set_headers or {}
    headers = [(name, replaced.get(name, raw)) for name, raw in BINARY.headers if name not in drop]
    headers += [(name, raw) for name, raw in replaced.items() if name not in dict(BINARY.headers)]
    if value is None:
        value = orjson.dumps(payload if payload is not None else PAYLOAD)
    return Record(key, value, headers + (add or []))


def payment(**changes: Any) -> Record:
    return binary(payload={**PAYLOAD, **changes})


def structured(
    *, drop: tuple[str, ...] = (), add: list[tuple[str, bytes]] | None = None, **changes: Any
) -> Record:
    envelope = {name: value for name, value in {**ENVELOPE, **changes}.items() if name not in drop}
    return Record(STRUCTURED.key, orjson.dumps(envelope), list(STRUCTURED.headers) + (add or []))


def without(mapping: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key != name}


KAFKA_CASES: dict[str, tuple[Record, ReasonCode, str | None]] = {
    "broken json": (binary(value=b'{"payment_id": '), R.BAD_JSON, None),
    "empty value": (binary(value=b""), R.BAD_JSON, None),
    "json with a trailing comma": (binary(value=BINARY.value[:-1] + b",}"), R.BAD_JSON, None),
    "random bytes": (binary(value=bytes(range(256))), R.NOT_UTF8, None),
    "non-UTF-8 inside a string": (
        binary(value=BINARY.value.replace(b"pay-0001", b"pay-\xff\xfe")),
        R.NOT_UTF8,
        None,
    ),
    "wrong specversion": (
        binary(set_headers={"ce_specversion": b"0.3"}),
        R.BAD_SPECVERSION,
        "ce_specversion",
    ),
    "missing specversion": (binary(drop=("ce_specversion",)), R.MISSING_ATTRIBUTE, "ce_specversion"),
    "missing id": (binary(drop=("ce_id",)), R.MISSING_ATTRIBUTE, "ce_id"),
    "missing source": (binary(drop=("ce_source",)), R.MISSING_ATTRIBUTE, "ce_source"),
    "missing type": (binary(drop=("ce_type",)), R.MISSING_ATTRIBUTE, "ce_type"),
    # A missing time is fine (CloudEvents 1.0 makes it optional): tests/unit/events/test_events_time.py
    "empty id": (binary(set_headers={"ce_id": b""}), R.BAD_ATTRIBUTE, "ce_id"),
    "time not RFC 3339": (binary(set_headers={"ce_time": b"yesterday"}), R.BAD_ATTRIBUTE, "ce_time"),
    "naive time": (binary(set_headers={"ce_time": b"2025-03-01T12:00:00"}), R.BAD_ATTRIBUTE, "ce_time"),
    "impossible time": (binary(set_headers={"ce_time": b"2025-02-30T12:00:00Z"}), R.BAD_ATTRIBUTE, "ce_time"),
    "unknown type": (
        binary(set_headers={"ce_type": b"dev.rtinfer.payment.authorized.v9"}),
        R.UNKNOWN_TYPE,
        "ce_type",
    ),
    "wrong dataschema": (
        binary(set_headers={"ce_dataschema": b"https://x/y.json"}),
        R.BAD_ATTRIBUTE,
        "ce_dataschema",
    ),
    "bad extension name": (binary(add=[("ce_Trace-Id", b"x")]), R.BAD_ATTRIBUTE, "ce_trace-id"),
    "repeated header": (binary(add=[("ce_id", b"other")]), R.BAD_ATTRIBUTE, "ce_id"),
    "header not UTF-8": (binary(set_headers={"ce_source": b"\xff"}), R.NOT_UTF8, "ce_source"),
    "key not UTF-8": (binary(key=b"\xff\xfe"), R.NOT_UTF8, "key"),
    "text content type": (
        binary(set_headers={"content-type": b"text/plain"}),
        R.BAD_CONTENT_TYPE,
        "content-type",
    ),
    "batch on kafka": (
        binary(set_headers={"content-type": b"application/cloudevents-batch+json"}),
        R.BAD_CONTENT_TYPE,
        "content-type",
    ),
    "amount as a string": (payment(amount="42.5"), R.INVALID_PAYLOAD, "amount"),
    "amount zero": (payment(amount=0), R.INVALID_PAYLOAD, "amount"),
    "amount negative": (payment(amount=-3.0), R.INVALID_PAYLOAD, "amount"),
    "amount too large": (payment(amount=1_000_000.01), R.INVALID_PAYLOAD, "amount"),
    "amount infinite": (binary(value=BINARY.value.replace(b"42.5", b"1e400")), R.INVALID_PAYLOAD, "amount"),
    "amount null": (payment(amount=None), R.INVALID_PAYLOAD, "amount"),
    "currency unknown": (payment(currency="XXX"), R.INVALID_PAYLOAD, "currency"),
    "currency lowercase": (payment(currency="eur"), R.INVALID_PAYLOAD, "currency"),
    "country unknown": (payment(country="ZZ"), R.INVALID_PAYLOAD, "country"),
    "merchant category short": (payment(merchant_category="541"), R.INVALID_PAYLOAD, "merchant_category"),
    "merchant category as a number": (
        payment(merchant_category=5411),
        R.INVALID_PAYLOAD,
        "merchant_category",
    ),
    "channel unknown": (payment(channel="phone"), R.INVALID_PAYLOAD, "channel"),
    "card type as a number": (payment(card_type=1), R.INVALID_PAYLOAD, "card_type"),
    "naive payment timestamp": (payment(timestamp="2025-03-01T12:00:00"), R.INVALID_PAYLOAD, "timestamp"),
    "payment id with spaces": (payment(payment_id="pay 1"), R.INVALID_PAYLOAD, "payment_id"),
    "payment id too long": (payment(payment_id="p" * 65), R.INVALID_PAYLOAD, "payment_id"),
    "missing payload field": (binary(payload=without(PAYLOAD, "card_id")), R.INVALID_PAYLOAD, "card_id"),
    "extra payload field": (payment(cvv="123"), R.INVALID_PAYLOAD, "cvv"),
    "payload is an array": (binary(value=b"[1, 2]"), R.INVALID_PAYLOAD, None),
    "oversized value": (binary(value=b" " * 65537), R.TOO_LARGE, "value"),
    "oversized headers": (binary(add=[("x-padding", b"x" * 65536)]), R.TOO_LARGE, "headers"),
    "subject is not the card": (
        binary(set_headers={"ce_subject": b"card-99"}),
        R.HEADER_BODY_CONFLICT,
        "ce_subject",
    ),
    "key is not the partition key": (
        binary(add=[("ce_partitionkey", b"card-99")]),
        R.HEADER_BODY_CONFLICT,
        "key",
    ),
    "structured not an object": (Record(None, b"[]", list(STRUCTURED.headers)), R.BAD_JSON, None),
    "structured broken json": (Record(None, b"{", list(STRUCTURED.headers)), R.BAD_JSON, None),
    "structured missing data": (structured(drop=("data",)), R.MISSING_ATTRIBUTE, "data"),
    "structured missing id": (structured(drop=("id",)), R.MISSING_ATTRIBUTE, "id"),
    "structured wrong specversion": (structured(specversion="0.3"), R.BAD_SPECVERSION, "specversion"),
    "structured id is a number": (structured(id=7), R.BAD_ATTRIBUTE, "id"),
    "structured data and data_base64": (structured(data_base64="e30="), R.BAD_ATTRIBUTE, "data_base64"),
    "structured data_base64 not base64": (
        structured(drop=("data",), data_base64="%%%"),
        R.BAD_ATTRIBUTE,
        "data_base64",
    ),
    "structured bad data": (structured(data={**PAYLOAD, "amount": -1}), R.INVALID_PAYLOAD, "amount"),
    "structured extension is an object": (structured(region={"a": 1}), R.BAD_ATTRIBUTE, "region"),
    "structured unknown type": (structured(type="com.example.other"), R.UNKNOWN_TYPE, "type"),
    "structured header contradicts body": (
        structured(add=[("ce_id", b"another-id")]),
        R.HEADER_BODY_CONFLICT,
        "ce_id",
    ),
    "structured key is not the partition key": (
        Record(b"card-99", STRUCTURED.value, list(STRUCTURED.headers)),
        R.HEADER_BODY_CONFLICT,
        "key",
    ),
    "structured subject is not the card": (structured(subject="card-99"), R.HEADER_BODY_CONFLICT, "subject"),
}


@pytest.mark.parametrize("case", KAFKA_CASES)
def test_kafka_malformed_input_maps_to_its_reason(case: str) -> None:
    record, reason, field_name = KAFKA_CASES[case]
    result = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(result, DecodeFailure), result
    assert (result.reason, result.field) == (reason, field_name), result.message
    assert result.message
    assert result.value == record.value
    assert result.headers == tuple(record.headers)
    assert result.key == record.key


def test_failure_names_the_event_when_it_could_be_read() -> None:
    record = payment(amount=-1)
    result = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(result, DecodeFailure)
    assert (result.event_type, result.event_id) == (EVENT.type, EVENT.id)


def test_size_is_checked_before_parsing() -> None:
    result = decode_kafka(None, b"\xff" * 11, [], max_bytes=10)
    assert isinstance(result, DecodeFailure) and result.reason is R.TOO_LARGE


def test_a_structured_record_labelled_as_json_is_still_read() -> None:
    # The cloudevents SDK labels structured Kafka records with the data's content type.
    result = decode_kafka(STRUCTURED.key, STRUCTURED.value, [("content-type", b"application/json")])
    assert isinstance(result, Decoded) and result.mode is Mode.STRUCTURED
    assert result.event == EVENT


HTTP_HEADERS, HTTP_BODY = encode_http(EVENT)


def http_binary(**changes: str | None) -> tuple[dict[str, str], bytes]:
    headers = {name: value for name, value in {**HTTP_HEADERS, **changes}.items() if value is not None}
    return headers, HTTP_BODY


def _batch(*items: Any) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": "application/cloudevents-batch+json"}, orjson.dumps(list(items))


HTTP_CASES: dict[str, tuple[tuple[dict[str, str], bytes], ReasonCode, str | None]] = {
    "missing id": (http_binary(**{"ce-id": None}), R.MISSING_ATTRIBUTE, "ce-id"),
    "wrong specversion": (http_binary(**{"ce-specversion": "2.0"}), R.BAD_SPECVERSION, "ce-specversion"),
    "unknown type": (http_binary(**{"ce-type": "x.y.z"}), R.UNKNOWN_TYPE, "ce-type"),
    "percent-encoded non-UTF-8": (http_binary(**{"ce-source": "%FF%FE"}), R.NOT_UTF8, "ce-source"),
    "subject is not the card": (
        http_binary(**{"ce-subject": "card-1"}),
        R.HEADER_BODY_CONFLICT,
        "ce-subject",
    ),
    "xml body": (http_binary(**{"content-type": "application/xml"}), R.BAD_CONTENT_TYPE, "content-type"),
    "oversized body": (({"content-type": "application/json"}, b"0" * 70000), R.TOO_LARGE, "body"),
    "broken structured": (({"content-type": "application/cloudevents+json"}, b"{]"), R.BAD_JSON, None),
    "batch is not an array": (
        ({"content-type": "application/cloudevents-batch+json"}, b"{}"),
        R.BAD_JSON,
        None,
    ),
    "structured header contradicts body": (
        ({"content-type": "application/cloudevents+json", "ce-type": "x"}, STRUCTURED.value),
        R.HEADER_BODY_CONFLICT,
        "ce-type",
    ),
}


@pytest.mark.parametrize("case", HTTP_CASES)
def test_http_malformed_input_maps_to_its_reason(case: str) -> None:
    (headers, body), reason, field_name = HTTP_CASES[case]
    [result] = decode_http(headers, body)
    assert isinstance(result, DecodeFailure), result
    assert (result.reason, result.field) == (reason, field_name), result.message
    assert result.value == body


def test_http_batch_keeps_good_items_and_reports_bad_ones() -> None:
    bad = {**ENVELOPE, "data": {**PAYLOAD, "currency": "ABC"}}
    results = decode_http(*_batch(ENVELOPE, bad, 42))
    assert [type(result) for result in results] == [Decoded, DecodeFailure, DecodeFailure]
    second, third = results[1], results[2]
    assert isinstance(second, DecodeFailure) and isinstance(third, DecodeFailure)
    assert (second.reason, second.field, second.event_id) == (R.INVALID_PAYLOAD, "currency", EVENT.id)
    assert orjson.loads(second.value) == bad
    assert third.reason is R.BAD_JSON


def test_content_type_parameters_are_accepted() -> None:
    record = binary(set_headers={"content-type": b"Application/JSON; charset=utf-8"})
    result = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(result, Decoded) and result.event == EVENT
    assert result.event.datacontenttype == "application/json"


def test_empty_batch_is_no_events() -> None:
    assert decode_http(*_batch()) == []
