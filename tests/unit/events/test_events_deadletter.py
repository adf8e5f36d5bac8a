"""Dead letters keep the original bytes, say why it failed, and have stable ids."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from events import (
    DEADLETTER,
    DeadLetter,
    Decoded,
    DecodeFailure,
    HttpOrigin,
    KafkaOrigin,
    OriginalHeader,
    RawInput,
    ReasonCode,
    dead_letter_event,
    deadletter_id,
    decode_http,
    decode_kafka,
    encode_kafka,
    original_input,
)
from events.deadletter import DEFAULT_MAX_RECORD_BYTES, kafka_record_size
from events.testing import sample_payment_event

pytestmark = pytest.mark.unit

SEEN = datetime(2025, 3, 1, 12, 0, 2, tzinfo=UTC)
ORIGIN = KafkaOrigin(topic="payments", partition=3, offset=1207)


def _failure(value: bytes, headers: list[tuple[str, bytes]], key: bytes | None = b"card-42") -> DecodeFailure:
    result = decode_kafka(key, value, headers)
    assert isinstance(result, DecodeFailure)
    return result


def _letter(original: Any, **options: Any) -> DeadLetter:
    fields = {"origin": ORIGIN, "stage": "decode", "first_seen": SEEN, "source": "//s"} | options
    return dead_letter_event(original, **fields).data


def test_a_decode_failure_keeps_the_record_as_it_was() -> None:
    record = encode_kafka(sample_payment_event())
    bad_value = record.value.replace(b'"EUR"', b'"XXX"')
    failure = _failure(bad_value, record.headers)
    event = dead_letter_event(failure, origin=ORIGIN, stage="decode", first_seen=SEEN, source="//scorer")
    letter = event.data
    assert event.type == DEADLETTER
    assert base64.b64decode(letter.value_base64 or "") == bad_value
    assert base64.b64decode(letter.key_base64 or "") == b"card-42"
    assert (letter.reason, letter.field, letter.stage) == ("invalid_payload", "currency", "decode")
    assert letter.original_type == "dev.rtinfer.payment.authorized.v1"
    assert OriginalHeader(name="ce_id", value="pay-0001") in letter.original_headers
    assert (event.causationid, event.partitionkey, event.time) == ("pay-0001", "card-42", SEEN)
    assert original_input(letter) == RawInput(bad_value, tuple(record.headers), b"card-42")


def test_json_is_kept_verbatim_not_reparsed() -> None:
    # Big integers, duplicate keys and odd spacing are what the producer sent: keep them.
    value = b'{"amount": 123456789012345678901234567890, "amount": 1,  "x": [1.0]}'
    assert original_input(_letter(RawInput(value), reason=ReasonCode.BAD_JSON)).value == value


def test_bytes_that_are_not_text_travel_as_base64_text_as_text() -> None:
    headers = [("ce_id", b"\xfe"), ("note", b"b64:looks encoded"), ("nul", b"\x00"), ("empty", b"")]
    letter = _letter(_failure(b"\xff\x00binary", headers, key=None))
    assert letter.key_base64 is None
    assert letter.original_headers == (
        OriginalHeader(name="ce_id", value_base64=base64.b64encode(b"\xfe").decode()),
        OriginalHeader(name="note", value="b64:looks encoded"),
        OriginalHeader(name="nul", value_base64="AA=="),
        OriginalHeader(name="empty", value=""),
    )
    assert original_input(letter) == RawInput(b"\xff\x00binary", tuple(headers), None)


def test_a_null_value_differs_from_an_empty_one_and_from_json_null() -> None:
    kept = {raw: _letter(RawInput(raw), reason=ReasonCode.BAD_JSON) for raw in (None, b"", b"null")}
    assert [letter.value_base64 for letter in kept.values()] == [None, "", "bnVsbA=="]
    assert [original_input(letter).value for letter in kept.values()] == [None, b"", b"null"]
    assert DeadLetter.model_validate_json(kept[None].model_dump_json()) == kept[None]


def test_repeated_headers_stay_repeated_and_in_order() -> None:
    headers = (("ce_id", b"a"), ("x", None), ("ce_id", b"b"))
    letter = _letter(RawInput(b"{}", headers), reason=ReasonCode.BAD_ATTRIBUTE)
    assert original_input(letter).headers == headers


def test_header_forms_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="exactly one of name"):
        OriginalHeader(value="v")
    with pytest.raises(ValidationError, match="exactly one of name"):
        OriginalHeader(name="n", name_base64="bg==")
    with pytest.raises(ValidationError, match="at most one of value"):
        OriginalHeader(name="n", value="v", value_base64="dg==")
    with pytest.raises(ValidationError, match="redacted header has no value"):
        OriginalHeader(name="cookie", value="v", redacted=True)


def test_truncated_comes_with_its_note() -> None:
    fields: dict[str, Any] = {
        "value_base64": "",
        "origin": ORIGIN,
        "stage": "decode",
        "reason": "bad_json",
        "message": "",
        "first_seen": SEEN,
        "attempts": 1,
    }
    with pytest.raises(ValidationError, match="truncation"):
        DeadLetter(**fields, truncated=True)


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
    assert original_input(letter_event.data) == RawInput(record.value, tuple(record.headers), record.key)
    assert letter_event.data.attempts == 5
    assert letter_event.id == deadletter_id(ORIGIN, "enrich", record.value)


def test_a_missing_or_invalid_reason_becomes_internal_instead_of_raising() -> None:
    missing = _letter(RawInput(b"{}"))
    assert (missing.reason, missing.message) == ("internal", "(no reason was given)")
    invalid = _letter(RawInput(b"{}"), reason="Not A Code", message="boom")
    assert invalid.reason == "internal" and invalid.message.endswith("is not a reason code) boom")


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
    letter = _letter(failure, max_original_bytes=1000)
    assert len(base64.b64decode(letter.value_base64 or "")) == 1000
    assert letter.truncated and letter.truncation is not None
    assert (letter.truncation.value_size, letter.truncation.value_kept) == (70000, 1000)


def test_a_record_over_the_producer_limit_is_cut_to_fit() -> None:
    # A 200 KB header of NUL bytes and a 2 MB value: the letter still fits, headers first.
    original = RawInput(b"v" * 2_000_000, (("ce_id", b"x"), ("blob", b"\x00" * 200_000)), b"card-1")
    event = dead_letter_event(
        original, origin=ORIGIN, stage="decode", first_seen=SEEN, source="//s", reason="too_large"
    )
    assert kafka_record_size(encode_kafka(event)) <= DEFAULT_MAX_RECORD_BYTES
    letter = event.data
    assert letter.truncation is not None and letter.truncation.headers_kept == 2
    assert original_input(letter).headers == original.headers
    assert 0 < letter.truncation.value_kept < 2_000_000


def test_deeply_nested_json_is_just_bytes() -> None:
    nested = b"[" * 1024 + b"]" * 1024
    letter = _letter(_failure(nested, []))
    assert original_input(letter).value == nested


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
    letter = _letter(failure, origin=HttpOrigin())
    assert letter.original_headers == (
        OriginalHeader(name="authorization", redacted=True),
        OriginalHeader(name="content-type", value="text/plain"),
    )
    assert "secret" not in letter.model_dump_json()
    assert original_input(letter).headers == (("content-type", b"text/plain"),)
