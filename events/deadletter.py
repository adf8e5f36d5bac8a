"""Build `dev.rtinfer.deadletter.v1` events from failed inputs."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from events.deadletter_payload import DeadLetter, HttpOrigin, KafkaOrigin
from events.envelope import Event
from events.http_binding import encode_http
from events.ids import deadletter_id
from events.kafka_binding import encode_kafka
from events.reasons import ReasonCode
from events.results import DecodeFailure, Headers
from events.types import DEADLETTER, EVENT_TYPES

BASE64_PREFIX = "b64:"
REDACTED = "[redacted]"
# Credentials must not outlive the request in a dead-letter topic.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
DEFAULT_MAX_ORIGINAL_BYTES = 262144
_MAX_MESSAGE = 2048


@dataclass(frozen=True, slots=True)
class RawInput:
    """An input known only as bytes (e.g. a record that failed before decoding was tried)."""

    value: bytes
    headers: Headers = ()
    key: bytes | None = None


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
    max_original_bytes: int = DEFAULT_MAX_ORIGINAL_BYTES,
) -> Event[DeadLetter]:
    """The dead letter for `original`, failing at `stage`; its id is derived from origin and stage.

    Args:
        original: a decode failure (reason, message and field default to its own), a decoded
            event that failed later, or raw bytes; for the last two `reason` is required.
        first_seen: when the input was first read; also the event time unless `time` is given.
        max_original_bytes: longer originals are cut (as base64) and the message says so.
    """
    value, headers, key, original_type, original_id = _unpack(original, origin)
    if isinstance(original, DecodeFailure):
        reason = reason or original.reason
        message = message if message is not None else original.message
        field = field if field is not None else original.field
    if reason is None:
        raise ValueError("reason is required unless original is a DecodeFailure")
    note = ""
    if len(value) > max_original_bytes:
        note = f" (original cut from {len(value)} to {max_original_bytes} bytes)"
    letter = DeadLetter(
        **_payload(value, max_original_bytes),
        original_headers={
            name: REDACTED if name.lower() in SENSITIVE_HEADERS else header_text(raw) for name, raw in headers
        },
        origin=origin,
        stage=stage,
        reason=str(reason),
        message=(message or "")[: _MAX_MESSAGE - len(note)] + note,
        field=field,
        first_seen=first_seen,
        attempts=attempts,
        original_type=original_type,
    )
    partitionkey = _utf8(key) if key else None
    original_id = original_id or None
    return Event(
        id=deadletter_id(origin, stage, value),
        source=source,
        type=DEADLETTER,
        time=time or first_seen,
        subject=original_id,
        dataschema=EVENT_TYPES[DEADLETTER].dataschema,
        partitionkey=partitionkey or None,
        traceparent=_traceparent(headers),
        causationid=original_id,
        data=letter,
    )


def header_text(raw: bytes) -> str:
    """A header value as text: UTF-8 when it is, else "b64:" + base64 (so is any "b64:" text)."""
    text = _utf8(raw)
    if text is None or text.startswith(BASE64_PREFIX):
        return BASE64_PREFIX + base64.b64encode(raw).decode("ascii")
    return text


def _unpack(
    original: DecodeFailure | Event[Any] | RawInput, origin: KafkaOrigin | HttpOrigin
) -> tuple[bytes, Headers, bytes | None, str | None, str | None]:
    if isinstance(original, DecodeFailure):
        return original.value, original.headers, original.key, original.event_type, original.event_id
    if isinstance(original, RawInput):
        return original.value, original.headers, original.key, None, None
    # A decoded event: rebuild the binary-mode record it arrived as.
    if isinstance(origin, KafkaOrigin):
        record = encode_kafka(original)
        return record.value, tuple(record.headers), record.key, original.type, original.id
    http_headers, body = encode_http(original)
    headers = tuple((name, text.encode()) for name, text in http_headers.items())
    return body, headers, None, original.type, original.id


def _payload(value: bytes, limit: int) -> dict[str, Any]:
    if len(value) <= limit:
        try:
            return {"payload_json": orjson.loads(value)}
        except orjson.JSONDecodeError:
            pass
    return {"payload_base64": base64.b64encode(value[:limit]).decode("ascii")}


def _traceparent(headers: Headers) -> str | None:
    for name, raw in headers:
        if name.lower() in ("ce_traceparent", "ce-traceparent", "traceparent"):
            text = _utf8(raw)
            if text:
                return text
    return None


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
