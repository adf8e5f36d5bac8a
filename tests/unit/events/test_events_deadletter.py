"""Dead letters keep the original input whole, say why it failed, and have stable ids."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from events import (
    DEADLETTER,
    DeadLetter,
    Decoded,
    DecodeFailure,
    HttpOrigin,
    KafkaOrigin,
    RawInput,
    ReasonCode,
    dead_letter_event,
    deadletter_id,
    decode_http,
    decode_kafka,
    encode_kafka,
)
from events.testing import sample_payment_event

pytestmark = pytest.mark.unit

SEEN = datetime(2025, 3, 1, 12, 0, 2, tzinfo=UTC)
ORIGIN = KafkaOrigin(topic="payments", partition=3, offset=1207)


def _failure(value: bytes, headers: list[tuple[str, bytes]], key: bytes | None = b"card-42") -> DecodeFailure:
    result = decode_kafka(key, value, headers)
    assert isinstance(result, DecodeFailure)
    return result


def test_a_decode_failure_with_json_keeps_the_payload_as_json() -> None:
    record = encode_kafka(sample_payment_event())
    bad_value = record.value.replace(b'"EUR"', b'"XXX"')
    failure = _failure(bad_value, record.headers)
    event = dead_letter_event(failure, origin=ORIGIN, stage="decode", first_seen=SEEN, source="//scorer")
    letter = event.data
    assert event.type == DEADLETTER
    assert letter.payload_json == orjson.loads(bad_value)
    assert letter.payload_base64 is None
    assert (letter.reason, letter.field, letter.stage) == ("invalid_payload", "currency", "decode")
    assert letter.original_type == "dev.rtinfer.payment.authorized.v1"
    assert letter.original_headers["ce_id"] == "pay-0001"
    assert (event.causationid, event.partitionkey, event.time) == ("pay-0001", "card-42", SEEN)


def test_bytes_that_are_not_json_travel_as_base64_and_odd_headers_with_a_prefix() -> None:
    failure = _failure(b"\xff\x00binary", [("ce_id", b"\xfe"), ("note", b"b64:looks encoded")], key=None)
    letter = dead_letter_event(failure, origin=ORIGIN, stage="decode", first_seen=SEEN, source="//s").data
    assert base64.b64decode(letter.payload_base64 or "") == b"\xff\x00binary"
    assert "payload_json" not in orjson.loads(letter.model_dump_json())
    assert letter.original_headers == {
        "ce_id": "b64:" + base64.b64encode(b"\xfe").decode(),
        "note": "b64:" + base64.b64encode(b"b64:looks encoded").decode(),
    }


def test_a_json_null_original_stays_json() -> None:
    letter = dead_letter_event(
        RawInput(b"null"),
        origin=ORIGIN,
        stage="decode",
        first_seen=SEEN,
        source="//s",
        reason=ReasonCode.BAD_JSON,
    ).data
    dumped = orjson.loads(letter.model_dump_json())
    assert "payload_json" in dumped and dumped["payload_json"] is None
    assert "payload_base64" not in dumped
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


def test_exactly_one_payload_form() -> None:
    fields: dict[str, Any] = {
        "origin": ORIGIN,
        "stage": "decode",
        "reason": "bad_json",
        "message": "",
        "first_seen": SEEN,
    }
    with pytest.raises(ValidationError, match="exactly one"):
        DeadLetter(**fields, attempts=1)
    with pytest.raises(ValidationError, match="exactly one"):
        DeadLetter(**fields, attempts=1, payload_json=1, payload_base64="AA==")


def test_an_event_that_failed_later_is_rebuilt_as_its_binary_record() -> None:
    event = sample_payment_event()
    letter_event = dead_letter_event(
        event,
        origin=ORIGIN,
        stage="enrich",
        first_seen=SEEN,
        source="//scorer",
        attempts=5,
        reason=ReasonCode.RETRIES_EXHAUSTED,
        message="feature store did not answer",
    )
    record = encode_kafka(event)
    assert letter_event.data.payload_json == orjson.loads(record.value)
    assert letter_event.data.attempts == 5
    assert letter_event.id == deadletter_id(ORIGIN, "enrich", record.value)


def test_reason_is_required_unless_the_failure_brings_one() -> None:
    with pytest.raises(ValueError, match="reason"):
        dead_letter_event(RawInput(b"{}"), origin=ORIGIN, stage="decode", first_seen=SEEN, source="//s")


def test_ids_are_stable_per_origin_and_stage() -> None:
    same = deadletter_id(ORIGIN, "decode", b"a"), deadletter_id(ORIGIN, "decode", b"b")
    assert same[0] == same[1]
    assert deadletter_id(ORIGIN, "enrich", b"a") != same[0]
    http = HttpOrigin(path="/", remote="10.0.0.1")
    assert deadletter_id(http, "decode", b"a") == deadletter_id(http, "decode", b"a")
    assert deadletter_id(http, "decode", b"a") != deadletter_id(http, "decode", b"b")


def test_large_originals_are_cut_and_say_so() -> None:
    failure = _failure(b"x" * 70000, [])
    assert failure.reason is ReasonCode.TOO_LARGE
    letter = dead_letter_event(
        failure, origin=ORIGIN, stage="decode", first_seen=SEEN, source="//s", max_original_bytes=1000
    ).data
    assert len(base64.b64decode(letter.payload_base64 or "")) == 1000
    assert letter.message.endswith("(original cut from 70000 to 1000 bytes)")


def test_dead_letters_travel_like_any_event() -> None:
    [failure] = decode_http({"content-type": "application/cloudevents+json"}, b"{oops")
    assert isinstance(failure, DecodeFailure)
    event = dead_letter_event(
        failure, origin=HttpOrigin(path="/"), stage="decode", first_seen=SEEN, source="//ingress"
    )
    record = encode_kafka(event)
    decoded = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(decoded, Decoded) and decoded.event == event


def test_credentials_are_not_kept() -> None:
    [failure] = decode_http({"Authorization": "Bearer secret", "content-type": "text/plain"}, b"hi")
    assert isinstance(failure, DecodeFailure)
    letter = dead_letter_event(
        failure, origin=HttpOrigin(), stage="decode", first_seen=SEEN, source="//s"
    ).data
    assert letter.original_headers == {"authorization": "[redacted]", "content-type": "text/plain"}
