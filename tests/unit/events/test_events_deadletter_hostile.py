"""Building a dead letter never raises, always fits the producer's limit, and keeps the bytes.

Whatever the input: deep nesting, huge or control-byte headers, names and values that are not
UTF-8, null keys and values, oversize values, junk where bytes belong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    DEADLETTER,
    Decoded,
    DecodeFailure,
    Event,
    HttpOrigin,
    KafkaOrigin,
    RawInput,
    ReasonCode,
    dead_letter_event,
    decode_kafka,
    encode_http,
    encode_kafka,
    original_input,
)
from events.deadletter import DEFAULT_MAX_RECORD_BYTES, MIN_RECORD_BYTES, SENSITIVE_HEADERS, kafka_record_size
from events.testing import any_events

pytestmark = pytest.mark.unit

HOSTILE = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
SEEN = datetime(2026, 1, 1, tzinfo=UTC)
# Message, field, type, origin and envelope at their longest, escaped; base64 adds a third.
FIXED_FIELDS_AT_MOST = 48 * 1024

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
controls = st.characters(max_codepoint=0x1F)
hostile_text = st.text(st.characters() | surrogates | controls, max_size=40)
nested = st.integers(256, 5000).map(lambda depth: b"[" * depth + b"]" * depth)
# Repeated patterns stand for big blobs: hypothesis would take ages to draw random megabytes.
sizes = st.sampled_from([0, 1, 4096, 65_537, 200_000, 700_000, 1_200_000]) | st.integers(0, 1_200_000)
big = st.tuples(st.sampled_from([b"\x00", b"\xff", b"x", b'"\\', b"\xe2\x80\xa8"]), sizes).map(
    lambda pattern: pattern[0] * pattern[1]
)
blobs = st.binary(max_size=64) | nested | big
header_names = (
    st.sampled_from(["ce_id", "ce_type", "content-type", "ce_traceparent", "x"])
    | hostile_text
    | st.sampled_from(sorted(SENSITIVE_HEADERS))
)
headers = st.lists(st.tuples(header_names, st.none() | blobs), max_size=12)
keys = st.none() | st.binary(max_size=32) | big


@st.composite
def raw_inputs(draw: st.DrawFn) -> RawInput:
    return RawInput(draw(st.none() | blobs), tuple(draw(headers)), draw(keys))


@st.composite
def decode_failures(draw: st.DrawFn) -> DecodeFailure:
    raw = draw(raw_inputs())
    return DecodeFailure(
        reason=draw(st.sampled_from(ReasonCode)),
        message=draw(hostile_text | st.text(min_size=3000, max_size=3000)),
        field=draw(st.none() | hostile_text | st.just("f" * 100_000)),
        value=raw.value or b"",
        headers=tuple((name, value or b"") for name, value in raw.headers),
        key=raw.key,
        event_type=draw(st.none() | hostile_text | st.just("t" * 100_000)),
        event_id=draw(st.none() | hostile_text | st.just("i" * 100_000)),
    )


# One third each (any_events is a union of seven types, `|` would make it seven branches).
originals = st.sampled_from([raw_inputs(), decode_failures(), any_events]).flatmap(lambda kind: kind)
origins = st.builds(
    KafkaOrigin, topic=st.just("payments"), partition=st.integers(0, 9), offset=st.integers(0)
) | (
    st.builds(
        HttpOrigin, path=st.none() | hostile_text | st.just("/" * 50_000), remote=st.none() | hostile_text
    )
)
limits = st.sampled_from([DEFAULT_MAX_RECORD_BYTES, MIN_RECORD_BYTES, 300_000])


def _sent_bytes(original: Any, origin: KafkaOrigin | HttpOrigin) -> RawInput:
    """What a letter of `original` must give back: its raw input, credentials left out."""
    if isinstance(original, Event) and isinstance(origin, HttpOrigin):
        http_headers, body = encode_http(original)
        raw = RawInput(body, tuple((name, text.encode()) for name, text in http_headers.items()))
    elif isinstance(original, Event):
        record = encode_kafka(original)
        raw = RawInput(record.value, tuple(record.headers), record.key)
    else:
        raw = RawInput(original.value, tuple(original.headers), original.key)
    kept = tuple((name, value) for name, value in raw.headers if name.lower() not in SENSITIVE_HEADERS)
    return RawInput(raw.value, kept, raw.key)


def _input_size(raw: RawInput) -> int:
    names_and_values = sum(
        len(name.encode("utf-8", "surrogatepass")) + len(v or b"") for name, v in raw.headers
    )
    return len(raw.value or b"") + len(raw.key or b"") + names_and_values + 64 * len(raw.headers)


@HOSTILE
@given(
    original=originals, origin=origins, limit=limits, reason=st.none() | st.sampled_from(["timeout", "Bad!"])
)
def test_a_letter_is_always_built_fits_and_keeps_the_bytes(
    original: Any, origin: KafkaOrigin | HttpOrigin, limit: int, reason: str | None
) -> None:
    event = dead_letter_event(
        original,
        origin=origin,
        stage="decode",
        first_seen=SEEN,
        source="//t",
        reason=reason,
        max_record_bytes=limit,
    )
    record = encode_kafka(event)
    assert kafka_record_size(record) <= limit
    decoded = decode_kafka(record.key, record.value, record.headers, max_bytes=2 * limit)
    assert isinstance(decoded, Decoded) and decoded.event == event and event.type == DEADLETTER
    letter = event.data
    expected = _sent_bytes(original, origin)
    if _input_size(expected) <= (limit - FIXED_FIELDS_AT_MOST) // 2:
        assert not letter.truncated
    kept = original_input(letter)
    if not letter.truncated:
        assert kept == expected
        return
    # Cut, never altered: what is kept is the start of each part.
    assert (expected.value or b"").startswith(kept.value or b"")
    assert (expected.key or b"").startswith(kept.key or b"")
    assert expected.headers[: len(kept.headers)] == kept.headers


@HOSTILE
@given(original=originals)
def test_the_id_is_the_same_on_redelivery(original: Any) -> None:
    origin = KafkaOrigin(topic="payments", partition=1, offset=7)
    first, again = (
        dead_letter_event(
            original, origin=origin, stage="decode", first_seen=SEEN, source="//t", reason="timeout"
        )
        for _ in range(2)
    )
    assert first.id == again.id and first == again


@pytest.mark.parametrize(
    "original",
    [
        RawInput(b"v", [("a", 1), ("b",), None, (b"\xff", "text"), ("c", bytearray(b"d"))]),  # type: ignore[arg-type]
        RawInput(b"v", 42),  # type: ignore[arg-type]
        RawInput(bytearray(b"v"), (), memoryview(b"k")),  # type: ignore[arg-type]
        "not an input at all",
        None,
    ],
)
def test_junk_where_bytes_belong_still_makes_a_letter(original: Any) -> None:
    event = dead_letter_event(original, origin=HttpOrigin(), stage="decode", first_seen=SEEN, source="//t")
    assert kafka_record_size(encode_kafka(event)) <= DEFAULT_MAX_RECORD_BYTES


def test_even_broken_arguments_give_a_letter_that_says_so() -> None:
    event = dead_letter_event(
        RawInput(b"v"),
        origin=None,  # type: ignore[arg-type]
        stage="",
        first_seen=datetime(2026, 1, 1),  # noqa: DTZ001 - a caller's bug must not lose the input
        source="",
        attempts=0,
    )
    assert event.data.reason == "internal" and "could not be built" in event.data.message
    record = encode_kafka(event)
    assert isinstance(decode_kafka(record.key, record.value, record.headers), Decoded)


def test_the_longest_fixed_fields_still_fit_the_smallest_limit() -> None:
    worst = "\x00" * 100_000  # six JSON characters each
    failure = DecodeFailure(
        ReasonCode.TOO_LARGE,
        worst,
        worst,
        b"\x00" * 100_000,
        (("h", b"\x00" * 100_000),),
        worst.encode(),
        worst,
        worst,
    )
    event = dead_letter_event(
        failure,
        origin=HttpOrigin(path=worst, remote=worst),
        stage=worst,
        first_seen=SEEN,
        source="s" * 100_000,
        max_record_bytes=MIN_RECORD_BYTES,
    )
    assert kafka_record_size(encode_kafka(event)) <= MIN_RECORD_BYTES
    assert event.data.truncated and event.data.reason == "too_large"
