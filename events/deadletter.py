"""Build `dev.rtinfer.deadletter.v2` events from failed inputs.

Building never raises and the letter's Kafka record always fits `max_record_bytes`: a letter
is the last place an input can go, so it must exist and it must be publishable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from events.deadletter_payload import (
    SENSITIVE_HEADERS,
    DeadLetter,
    HttpOrigin,
    KafkaOrigin,
    OriginalHeader,
    RawHeaders,
    RawInput,
    Truncation,
    b64,
    name_bytes,
    printable,
)
from events.envelope import Event
from events.http_binding import encode_http
from events.ids import deadletter_id
from events.kafka_binding import KafkaRecord, encode_kafka
from events.reasons import ReasonCode
from events.results import DecodeFailure
from events.types import DEADLETTER, EVENT_TYPES

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "MIN_RECORD_BYTES",
    "SENSITIVE_HEADERS",
    "RawInput",
    "dead_letter_event",
    "kafka_record_size",
    "original_input",
]

# Comfortably below the producer's and broker's 1 MiB defaults (record overhead fits in between).
DEFAULT_MAX_RECORD_BYTES = 900 * 1024
# Below this even the fixed fields (message, field, origin, source) might not fit.
MIN_RECORD_BYTES = 64 * 1024
_MAX_MESSAGE = 2048
_MAX_TEXT = 256
_MAX_PATH = 1024
_SLACK = 64  # the truncation note's numbers grow by a few digits once filled in
_REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-[\x21-\x7e]{0,400})?")
_TRACE_HEADERS = ("ce_traceparent", "ce-traceparent", "traceparent")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOTHING_KEPT = Truncation(
    value_size=None, value_kept=0, key_size=None, key_kept=0, header_count=0, headers_kept=0, headers_size=0
)


class _Cut(NamedTuple):
    """How much of the original a letter keeps: value and key bytes, leading headers."""

    value: int
    key: int
    headers: int


def dead_letter_event(
    original: DecodeFailure | Event[Any] | RawInput,
    *,
    origin: KafkaOrigin | HttpOrigin,
    stage: str,
    first_seen: datetime,
    source: str,
    attempts: int = 1,
    reason: ReasonCode | str | None = None,
    message: str | None = None,
    field: str | None = None,
    time: datetime | None = None,
    max_original_bytes: int | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Event[DeadLetter]:
    """The dead letter for `original`, failing at `stage`; its id is derived from origin and stage.

    Never raises: a missing reason, or one that is not a reason code, becomes `internal` and the
    message says so.

    Args:
        original: a decode failure (reason, message and field default to its own), a decoded
            event that failed later (kept as the binary record it arrived as), or raw bytes.
        first_seen: when the input was first read; also the event time unless `time` is given.
        max_original_bytes: keep at most this much of the value (None: as much as fits).
        max_record_bytes: bound of the letter's binary-mode Kafka record (value, headers and
            key); at least MIN_RECORD_BYTES. The value, then headers, then key are cut to fit.
    """
    try:
        raw, original_type, original_id, note = _unpack(original, origin)
        if isinstance(original, DecodeFailure):
            reason = reason or original.reason
            message = message if message is not None else original.message
            field = field if field is not None else original.field
        code, reason_note = _reason_code(reason)
        origin = _clean_origin(origin)
        stage = _text(stage, _MAX_TEXT) or "unknown"
        fixed: dict[str, Any] = {
            "origin": origin,
            "stage": stage,
            "reason": code,
            "message": _text(" ".join(part for part in (reason_note, note, message) if part), _MAX_MESSAGE),
            "field": None if field is None else _text(field, _MAX_TEXT),
            "first_seen": _aware(first_seen),
            "attempts": attempts if isinstance(attempts, int) and attempts >= 1 else 1,
            "original_type": _text(original_type, _MAX_TEXT) if original_type else None,
        }
        # Used only when even an empty original does not fit: oversized message or origin.
        bare = {**fixed, "message": fixed["message"][:200], "field": None, "original_type": None}
        if isinstance(origin, HttpOrigin):
            bare["origin"] = HttpOrigin()
        entries = [OriginalHeader.of(name, value) for name, value in raw.headers]
        short_id = _envelope_text(original_id)
        envelope: dict[str, Any] = {
            "id": deadletter_id(origin, stage, raw.value or b""),
            "source": _text(source, _MAX_MESSAGE) or "rtinfer",
            "type": DEADLETTER,
            "time": _aware(time or first_seen),
            "subject": short_id,
            "dataschema": EVENT_TYPES[DEADLETTER].dataschema,
            "partitionkey": _envelope_text(_utf8(raw.key)),
            "traceparent": _traceparent(raw.headers),
            "causationid": short_id,
        }

        def build(cut: _Cut, *, fallback: bool = False) -> Event[DeadLetter]:
            return Event(**envelope, data=_letter(raw, entries, cut, bare if fallback else fixed))

        return _fit(raw, entries, build, max(max_record_bytes, MIN_RECORD_BYTES), max_original_bytes)
    except Exception as error:  # the boundary: whatever slipped through still becomes a letter
        return _last_resort(origin, stage, first_seen, source, f"{type(error).__name__}: {error}")


def original_input(letter: DeadLetter) -> RawInput:
    """The original value, key and headers of a letter, byte for byte (see DeadLetter.original)."""
    return letter.original()


def kafka_record_size(record: KafkaRecord) -> int:
    """Bytes a record puts against a producer's limit: value, header names and values, key."""
    headers = sum(len(name.encode()) + len(value) for name, value in record.headers)
    return len(record.value) + headers + len(record.key or b"")


def _fit(
    raw: RawInput,
    entries: list[OriginalHeader],
    build: Callable[..., Event[DeadLetter]],
    limit: int,
    max_original: int | None,
) -> Event[DeadLetter]:
    """The letter with as much of the original as fits: the value is cut first, then headers
    (the last ones first), then the key."""
    value_size, key_size = len(raw.value or b""), len(raw.key or b"")
    whole = _Cut(value_size, key_size, len(entries))
    if max_original is not None and value_size > max(max_original, 0):
        whole = whole._replace(value=max(max_original, 0))
    event = build(whole)
    if _size(event) <= limit:
        return event
    budget = limit - _size(build(_Cut(0, 0, 0))) - _SLACK
    key_kept = key_size if _b64_len(key_size) <= budget else 0
    budget -= _b64_len(key_kept)
    headers_kept = 0
    for entry in entries:
        cost = len(entry.__pydantic_serializer__.to_json(entry)) + 1  # and a comma
        if cost > budget:
            break
        budget -= cost
        headers_kept += 1
    value_kept = min(whole.value, max(budget, 0) // 4 * 3)
    for _ in range(3):  # the estimate is exact up to _SLACK; shrink further if it was not
        event = build(_Cut(value_kept, key_kept, headers_kept))
        excess = _size(event) - limit
        if excess <= 0:
            return event
        value_kept = max(0, value_kept - (excess // 4 + 2) * 3)
    return build(_Cut(0, 0, 0), fallback=True)


def _letter(raw: RawInput, entries: list[OriginalHeader], cut: _Cut, fields: dict[str, Any]) -> DeadLetter:
    value, key = raw.value, raw.key
    truncated = (
        (value is not None and cut.value < len(value))
        or (key is not None and cut.key < len(key))
        or cut.headers < len(entries)
    )
    truncation = None
    if truncated:
        truncation = Truncation(
            value_size=None if value is None else len(value),
            value_kept=min(cut.value, len(value or b"")),
            key_size=None if key is None else len(key),
            key_kept=min(cut.key, len(key or b"")),
            header_count=len(entries),
            headers_kept=cut.headers,
            headers_size=sum(len(name_bytes(name)) + len(data or b"") for name, data in raw.headers),
        )
    return DeadLetter(
        value_base64=None if value is None else b64(value[: cut.value]),
        key_base64=None if key is None else b64(key[: cut.key]),
        original_headers=tuple(entries[: cut.headers]),
        truncated=truncated,
        truncation=truncation,
        **fields,
    )


def _unpack(
    original: DecodeFailure | Event[Any] | RawInput, origin: KafkaOrigin | HttpOrigin
) -> tuple[RawInput, str | None, str | None, str]:
    """The original as raw bytes, its type and id when known, and a note for the message."""
    if isinstance(original, DecodeFailure | RawInput):
        raw = RawInput.coerce(original.value, original.headers, original.key)
        if isinstance(original, RawInput):
            return raw, None, None, ""
        return raw, original.event_type, original.event_id, ""
    if not isinstance(original, Event):
        kept = RawInput(repr(original).encode("utf-8", "backslashreplace"))
        return kept, None, None, f"(not an input but a {type(original).__name__}; its repr is kept)"
    try:
        # A decoded event: rebuild the binary-mode record (or request) it arrived as.
        if isinstance(origin, HttpOrigin):
            http_headers, body = encode_http(original)
            pairs = tuple((name, text.encode()) for name, text in http_headers.items())
            return RawInput(body, pairs), original.type, original.id, ""
        record = encode_kafka(original)
        return RawInput(record.value, tuple(record.headers), record.key), original.type, original.id, ""
    except Exception as error:  # an event that cannot be encoded is still kept, as text
        kept = RawInput(repr(original).encode("utf-8", "backslashreplace"))
        note = f"(the event could not be encoded, {type(error).__name__}; its repr is kept)"
        return kept, _str_or_none(original.type), _str_or_none(original.id), note


def _last_resort(origin: Any, stage: Any, first_seen: Any, source: Any, problem: str) -> Event[DeadLetter]:
    """A letter that says building the real one failed; keeps no original (a bug if ever seen)."""
    where = origin if isinstance(origin, KafkaOrigin | HttpOrigin) else HttpOrigin()
    step = _text(stage, _MAX_TEXT) if isinstance(stage, str) and stage else "unknown"
    seen = _aware(first_seen) if isinstance(first_seen, datetime) else _EPOCH
    letter = DeadLetter(
        value_base64=None,
        truncated=True,
        truncation=_NOTHING_KEPT,
        origin=where,
        stage=step,
        reason=str(ReasonCode.INTERNAL),
        message=_text(f"the dead letter could not be built ({problem}); the original is not kept", 2048),
        first_seen=seen,
        attempts=1,
    )
    return Event(
        id=deadletter_id(where, step, problem.encode("utf-8", "backslashreplace")),
        source=_text(source, _MAX_MESSAGE) if isinstance(source, str) and source else "rtinfer",
        type=DEADLETTER,
        time=seen,
        dataschema=EVENT_TYPES[DEADLETTER].dataschema,
        data=letter,
    )


def _reason_code(reason: ReasonCode | str | None) -> tuple[str, str]:
    """A valid reason code, and a note when the given one was not."""
    if reason is None:
        return str(ReasonCode.INTERNAL), "(no reason was given)"
    text = str(reason)
    if _REASON.fullmatch(text):
        return text, ""
    return str(ReasonCode.INTERNAL), f"(reason {_text(text, 64)!r} is not a reason code)"


def _clean_origin(origin: KafkaOrigin | HttpOrigin) -> KafkaOrigin | HttpOrigin:
    if isinstance(origin, KafkaOrigin):
        return origin
    path = None if origin.path is None else _text(origin.path, _MAX_PATH)
    remote = None if origin.remote is None else _text(origin.remote, _MAX_PATH)
    return origin if (path, remote) == (origin.path, origin.remote) else HttpOrigin(path=path, remote=remote)


def _traceparent(headers: RawHeaders) -> str | None:
    for name, raw in headers:
        if isinstance(name, str) and name.lower() in _TRACE_HEADERS:
            text = _utf8(raw)
            if text and _TRACEPARENT.fullmatch(text):
                return text
    return None


def _envelope_text(text: str | None) -> str | None:
    # Ids and keys become letter headers: only short, printable ones.
    if not text or len(text) > _MAX_TEXT or printable(text.encode("utf-8", "surrogatepass")) is None:
        return None
    return text


def _text(raw: Any, limit: int) -> str:
    text = raw if isinstance(raw, str) else str(raw)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def _str_or_none(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _utf8(raw: bytes | None) -> str | None:
    try:
        return None if raw is None else raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _b64_len(size: int) -> int:
    return (size + 2) // 3 * 4


def _size(event: Event[DeadLetter]) -> int:
    return kafka_record_size(encode_kafka(event))
