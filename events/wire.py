"""Shared pieces of the Kafka and HTTP bindings: attributes, time, JSON and payload parsing."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from events.contract import Contract
from events.envelope import JSON_CONTENT_TYPE, NAMED_ATTRIBUTES, Event, EventError, TimeSource
from events.reasons import ReasonCode
from events.types import EVENT_TYPES

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", re.ASCII)
# CloudEvents 1.0 requires these (and specversion); `time` is optional.
_REQUIRED = ("id", "source", "type")
_OPTIONAL_ORDER = ("subject", "dataschema", "partitionkey", "traceparent", "tracestate", "causationid")


class WireError(Exception):
    """Raised inside a decoder; the binding turns it into a DecodeFailure."""

    def __init__(self, reason: ReasonCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC (`Z`): one canonical spelling of an instant."""
    try:
        return moment.astimezone(UTC).isoformat()[:-6] + "Z"
    except OverflowError:  # the instant is past year 9999 in UTC: keep its own offset
        return moment.isoformat()


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (offset required); raise ValueError otherwise."""
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp with offset")
    return datetime.fromisoformat(text.upper())


def media_type(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def load_json(raw: bytes) -> Any:
    """Parse JSON bytes, telling invalid UTF-8 from invalid JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError(ReasonCode.NOT_UTF8, "value is not valid UTF-8") from None
        raise WireError(ReasonCode.BAD_JSON, f"value is not JSON: {error}") from None


def looks_structured(value: bytes) -> bool:
    """Whether `value` is a JSON object with a specversion: a structured event, whatever its label."""
    if not value.lstrip().startswith(b"{"):
        return False
    try:
        envelope = orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return isinstance(envelope, dict) and "specversion" in envelope


def payload_from_json(model: type[Contract], data: bytes) -> Contract:
    """Validate the JSON payload against its contract (strict, JSON mode)."""
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=False, include_context=False)
        first = errors[0]
        if first["type"] == "json_invalid":
            load_json(data)  # raises the precise reason: not UTF-8 or not JSON
            raise WireError(ReasonCode.BAD_JSON, first["msg"]) from None
        field = ".".join(str(part) for part in first["loc"]) or None
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        where = f"{field}: " if field else ""
        raise WireError(
            ReasonCode.INVALID_PAYLOAD, f"{model.__name__} {where}{first['msg']}{more}", field
        ) from None


def event_from_attributes(
    attributes: dict[str, str],
    data: bytes,
    wire_name: Callable[[str], str],
    received_at: datetime | None = None,
) -> Event[Any]:
    """Build a valid event from context attributes (as strings) and JSON data.

    Without a `time` attribute the event time is the payload's own timestamp when its type
    has one, else `received_at` (None: the clock now); `Event.time_source` says which.

    Args:
        wire_name: how an attribute is named on the wire, for `WireError.field`.
        received_at: when the consumer received the input (timezone-aware).
    """
    specversion = attributes.get("specversion")
    if specversion is None:
        raise WireError(ReasonCode.MISSING_ATTRIBUTE, "specversion is missing", wire_name("specversion"))
    if specversion != "1.0":
        raise WireError(
            ReasonCode.BAD_SPECVERSION, f"specversion {specversion!r} is not 1.0", wire_name("specversion")
        )
    for name in _REQUIRED:
        if name not in attributes:
            raise WireError(ReasonCode.MISSING_ATTRIBUTE, f"{name} is missing", wire_name(name))
    event_type = EVENT_TYPES.get(attributes["type"])
    if event_type is None:
        raise WireError(
            ReasonCode.UNKNOWN_TYPE, f"unknown event type {attributes['type']!r}", wire_name("type")
        )
    time: datetime | None = None
    if "time" in attributes:
        try:
            time = parse_time(attributes["time"])
        except ValueError as error:
            raise WireError(ReasonCode.BAD_ATTRIBUTE, str(error), wire_name("time")) from None
    content_type = attributes.get("datacontenttype")
    if content_type is not None and media_type(content_type) != JSON_CONTENT_TYPE:
        raise WireError(
            ReasonCode.BAD_CONTENT_TYPE,
            f"datacontenttype {content_type!r} is not {JSON_CONTENT_TYPE}",
            wire_name("datacontenttype"),
        )
    payload = payload_from_json(event_type.payload, data)
    time_source = TimeSource.ATTRIBUTE
    if time is None:
        time, time_source = event_type.payload_time(payload), TimeSource.PAYLOAD
        if time is None:
            time, time_source = _received(received_at), TimeSource.RECEIVED
    try:
        return Event(
            id=attributes["id"],
            source=attributes["source"],
            type=event_type.name,
            time=time,
            time_source=time_source,
            data=payload,
            subject=attributes.get("subject"),
            dataschema=attributes.get("dataschema"),
            partitionkey=attributes.get("partitionkey"),
            traceparent=attributes.get("traceparent"),
            tracestate=attributes.get("tracestate"),
            causationid=attributes.get("causationid"),
            extensions={name: value for name, value in attributes.items() if name not in NAMED_ATTRIBUTES},
        )
    except EventError as error:
        field = wire_name(error.attribute) if error.attribute else None
        raise WireError(error.reason, error.message, field) from None


def _received(received_at: datetime | None) -> datetime:
    if received_at is None:
        return datetime.now(UTC)
    if received_at.utcoffset() is None:
        raise WireError(ReasonCode.INTERNAL, "received_at must be a timezone-aware datetime")
    return received_at


def attribute_text(name: str, value: Any) -> str:
    """A structured-mode attribute as its canonical string (extensions may be bool or int)."""
    if isinstance(value, str):
        return value
    if name not in NAMED_ATTRIBUTES:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
    raise WireError(ReasonCode.BAD_ATTRIBUTE, f"attribute {name} must be a string", name)


def split_structured(envelope: Any, attributes: dict[str, str]) -> bytes:
    """Move a structured event's attributes into `attributes`; return its data as JSON bytes."""
    if not isinstance(envelope, dict):
        raise WireError(ReasonCode.BAD_JSON, "a structured event must be a JSON object")
    if "data" in envelope and "data_base64" in envelope:
        raise WireError(ReasonCode.BAD_ATTRIBUTE, "data and data_base64 are exclusive", "data_base64")
    data: bytes | None = None
    for name, value in envelope.items():
        if name == "data":
            data = orjson.dumps(value)
        elif name == "data_base64":
            if not isinstance(value, str):
                raise WireError(ReasonCode.BAD_ATTRIBUTE, "data_base64 must be a string", name)
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise WireError(ReasonCode.BAD_ATTRIBUTE, "data_base64 is not base64", name) from None
        else:
            attributes[name] = attribute_text(name, value)
    if data is None:
        raise WireError(ReasonCode.MISSING_ATTRIBUTE, "data is missing", "data")
    return data


def same_attribute(name: str, body_value: str | None, header_value: str) -> bool:
    """Whether a header repeats the body's attribute (times compare as instants)."""
    if body_value == header_value:
        return True
    if name == "time" and body_value is not None:
        try:
            return parse_time(body_value) == parse_time(header_value)
        except ValueError:
            return False
    return False


def attribute_pairs(event: Event[Any]) -> list[tuple[str, str]]:
    """Context attributes other than datacontenttype, as (name, string) in a stable order.

    `time` only when it is the event's own attribute (`TimeSource.ATTRIBUTE`).
    """
    pairs = [
        ("specversion", event.specversion),
        ("id", event.id),
        ("source", event.source),
        ("type", event.type),
    ]
    if event.time_source is TimeSource.ATTRIBUTE:
        pairs.append(("time", format_time(event.time)))
    for name in _OPTIONAL_ORDER:
        value = getattr(event, name)
        if value is not None:
            pairs.append((name, value))
    pairs.extend(event.extensions.items())
    return pairs


def payload_json(event: Event[Any]) -> bytes:
    """The event's data serialized as JSON."""
    return event.data.__pydantic_serializer__.to_json(event.data)


def structured_json(event: Event[Any]) -> bytes:
    """The event in the CloudEvents JSON format."""
    return orjson.dumps(structured_object(event))


def structured_object(event: Event[Any]) -> dict[str, Any]:
    """The event as a JSON-ready dict; data embedded as pre-serialized JSON."""
    envelope: dict[str, Any] = dict(attribute_pairs(event))
    envelope["datacontenttype"] = event.datacontenttype
    envelope["data"] = orjson.Fragment(payload_json(event))
    return envelope
