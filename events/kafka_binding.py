"""CloudEvents Kafka protocol binding: binary and structured modes, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.envelope import Event
from events.reasons import ReasonCode
from events.results import Decoded, DecodeFailure, Headers, Mode
from events.wire import (
    STRUCTURED_CONTENT_TYPE,
    WireError,
    attribute_pairs,
    event_from_attributes,
    load_json,
    looks_structured,
    media_type,
    payload_json,
    same_attribute,
    split_structured,
    structured_json,
)

DEFAULT_MAX_BYTES = 65536
_BINARY_CONTENT_TYPE = b"application/json"
_STRUCTURED_HEADERS = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What a producer sends and a consumer receives, client-neutral."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def encode_kafka(event: Event[Any], mode: Mode = Mode.BINARY) -> KafkaRecord:
    """The record for `event`; the key is its partitionkey."""
    key = event.partitionkey.encode() if event.partitionkey is not None else None
    if mode is Mode.STRUCTURED:
        return KafkaRecord(key, structured_json(event), list(_STRUCTURED_HEADERS))
    if mode is not Mode.BINARY:
        raise ValueError(f"Kafka has no {mode} mode")
    headers = [("content-type", _BINARY_CONTENT_TYPE)]
    headers.extend(
        (f"ce_{name}", value.encode()) for name, value in attribute_pairs(event) if name != "partitionkey"
    )
    return KafkaRecord(key, payload_json(event), headers)


def decode_kafka(
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]] | Headers,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    received_at: datetime | None = None,
) -> Decoded | DecodeFailure:
    """Decode one record into an event or a failure; never raises.

    The mode comes from the content-type header. `max_bytes` bounds the value and,
    separately, the headers; it is checked before anything is parsed. `time` is optional:
    without it the event time is the payload's own timestamp, else `received_at` (when the
    record was received, timezone-aware; None: the clock at decode).
    """
    attributes: dict[str, str] = {}
    try:
        return _decode(key, value, headers, max_bytes, attributes, received_at)
    except WireError as error:
        return _failure(error, key, value, headers, attributes)
    except Exception as error:  # the boundary: whatever slipped through becomes data
        problem = WireError(ReasonCode.INTERNAL, f"unexpected {type(error).__name__}: {error}")
        return _failure(problem, key, value, headers, attributes)


def _decode(
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]] | Headers,
    max_bytes: int,
    attributes: dict[str, str],
    received_at: datetime | None,
) -> Decoded:
    if value is None:
        raise WireError(
            ReasonCode.NULL_VALUE, "the record has a null value (a tombstone), not an event", "value"
        )
    if len(value) > max_bytes:
        raise WireError(ReasonCode.TOO_LARGE, f"value is {len(value)} bytes, limit {max_bytes}", "value")
    ce_headers, content_type = _read_headers(headers, max_bytes)
    kind = media_type(content_type) if content_type is not None else None
    if kind is not None and kind.startswith("application/cloudevents"):
        if kind != STRUCTURED_CONTENT_TYPE:
            raise WireError(
                ReasonCode.BAD_CONTENT_TYPE, f"unsupported content-type {content_type!r}", "content-type"
            )
        return Decoded(_structured(key, value, ce_headers, attributes, received_at), Mode.STRUCTURED)
    if "specversion" not in ce_headers and looks_structured(value):
        # Some producers (the cloudevents SDK among them) label structured records with
        # the data's content type; without ce_ headers the value can only be structured.
        return Decoded(_structured(key, value, ce_headers, attributes, received_at), Mode.STRUCTURED)
    attributes.update(ce_headers)
    if content_type is not None and attributes.setdefault("datacontenttype", content_type) != content_type:
        raise WireError(
            ReasonCode.HEADER_BODY_CONFLICT, "ce_datacontenttype differs from content-type", "content-type"
        )
    _merge_key(attributes, key)
    return Decoded(event_from_attributes(attributes, value, _binary_name, received_at), Mode.BINARY)


def _read_headers(
    headers: list[tuple[str, bytes]] | Headers, max_bytes: int
) -> tuple[dict[str, str], str | None]:
    """The ce_ headers by attribute name, and content-type; one pass (hot path)."""
    found: dict[str, str] = {}
    content_type = None
    size = 0
    not_utf8 = repeated = None
    for name, raw in headers:
        size += len(name) + len(raw)
        lowered = name.lower()
        is_ce = lowered.startswith("ce_")
        if not is_ce and lowered != "content-type":
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8 = not_utf8 or name
            continue
        if not is_ce:
            content_type = text
        elif found.setdefault(lowered[3:], text) != text:
            repeated = repeated or name
    # The size verdict comes first, as if checked before reading anything.
    if size > max_bytes:
        raise WireError(ReasonCode.TOO_LARGE, f"headers exceed {max_bytes} bytes", "headers")
    if not_utf8:
        raise WireError(ReasonCode.NOT_UTF8, f"header {not_utf8} is not valid UTF-8", not_utf8)
    if repeated:
        raise WireError(ReasonCode.BAD_ATTRIBUTE, f"header {repeated} repeats with another value", repeated)
    return found, content_type


def _structured(
    key: bytes | None,
    value: bytes,
    ce_headers: dict[str, str],
    attributes: dict[str, str],
    received_at: datetime | None,
) -> Event[Any]:
    data = split_structured(load_json(value), attributes)
    for attribute, text in ce_headers.items():
        if not same_attribute(attribute, attributes.get(attribute), text):
            raise WireError(
                ReasonCode.HEADER_BODY_CONFLICT,
                f"header ce_{attribute} contradicts the event's {attribute}",
                f"ce_{attribute}",
            )
    _merge_key(attributes, key)
    return event_from_attributes(attributes, data, _structured_name, received_at)


def _binary_name(attribute: str) -> str:
    return "content-type" if attribute == "datacontenttype" else f"ce_{attribute}"


def _structured_name(attribute: str) -> str:
    return attribute


def _merge_key(attributes: dict[str, str], key: bytes | None) -> None:
    # Kafka binding: the record key carries partitionkey; the two must agree.
    if not key:
        return
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(ReasonCode.NOT_UTF8, "record key is not valid UTF-8", "key") from None
    if attributes.setdefault("partitionkey", text) != text:
        raise WireError(ReasonCode.HEADER_BODY_CONFLICT, "record key differs from partitionkey", "key")


def _failure(
    error: WireError, key: Any, value: Any, headers: Any, attributes: dict[str, str]
) -> DecodeFailure:
    return DecodeFailure(
        reason=error.reason,
        message=error.message,
        field=error.field,
        value=None if value is None else _as_bytes(value),
        headers=_as_headers(headers),
        key=_as_bytes(key) if key is not None else None,
        event_type=attributes.get("type"),
        event_id=attributes.get("id"),
    )


def _as_bytes(raw: Any) -> bytes:
    return bytes(raw) if isinstance(raw, bytes | bytearray | memoryview) else repr(raw).encode()


def _as_headers(headers: Any) -> Headers:
    try:
        return tuple((str(name), _as_bytes(raw)) for name, raw in headers)
    except (TypeError, ValueError):
        return ()
