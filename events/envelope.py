"""The CloudEvents 1.0 envelope around a typed payload."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from events.contract import Contract
from events.reasons import ReasonCode
from events.types import EVENT_TYPES

SPECVERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"

# Context attributes with a field of their own on `Event` (everything else is an extension).
NAMED_ATTRIBUTES = frozenset(
    {
        "specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema",
        "partitionkey", "traceparent", "tracestate", "causationid",
    }
)  # fmt: skip
RESERVED_NAMES = NAMED_ATTRIBUTES | {"data", "data_base64"}
EXTENSION_NAME = re.compile(r"[a-z0-9]+")

P = TypeVar("P", bound=Contract)


class TimeSource(StrEnum):
    """Where `Event.time` comes from. CloudEvents 1.0 makes the `time` attribute optional."""

    ATTRIBUTE = "attribute"  # the event's own `time` attribute
    PAYLOAD = "payload"  # no `time`: the payload's own timestamp (`EventType.time_field`)
    RECEIVED = "received"  # no `time` and none in the payload: when the consumer received it


class EventError(ValueError):
    """An envelope that breaks the contract; `attribute` names the context attribute at fault."""

    def __init__(self, reason: ReasonCode, message: str, attribute: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.attribute = attribute


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(Generic[P]):
    """A CloudEvent whose `data` is a registered payload model; invalid ones cannot be built.

    `extensions` holds extension attributes other than the four named ones, as strings.

    `time` is always set, so every reader has an event time: the `time` attribute, or, for an
    event that arrived without one, what the decoder put in its place: the payload's own
    timestamp when its type has one, else the receive time. `time_source` says which; an
    event whose time is not its attribute is encoded without `time`, as it arrived.
    """

    id: str
    source: str
    type: str
    time: datetime
    time_source: TimeSource = TimeSource.ATTRIBUTE
    data: P
    subject: str | None = None
    dataschema: str | None = None
    datacontenttype: str = JSON_CONTENT_TYPE
    specversion: str = SPECVERSION
    partitionkey: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    causationid: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_envelope(self)


def _bad(name: str, message: str) -> EventError:
    return EventError(ReasonCode.BAD_ATTRIBUTE, message, name)


def check_envelope(event: Event[Any]) -> None:
    """Raise EventError unless `event` keeps the CloudEvents and rtinfer contract."""
    # Written flat on purpose: this runs for every decoded event.
    if event.specversion != SPECVERSION:
        raise EventError(
            ReasonCode.BAD_SPECVERSION,
            f"specversion {event.specversion!r} is not {SPECVERSION}",
            "specversion",
        )
    required: tuple[tuple[str, str], ...] = (("id", event.id), ("source", event.source), ("type", event.type))
    for name, value in required:
        if not value or not isinstance(value, str):
            raise _bad(name, f"{name} must be a non-empty string")
    event_type = EVENT_TYPES.get(event.type)
    if event_type is None:
        raise EventError(ReasonCode.UNKNOWN_TYPE, f"unknown event type {event.type!r}", "type")
    if type(event.data) is not event_type.payload:
        raise EventError(
            ReasonCode.INVALID_PAYLOAD,
            f"data of {event.type} must be a {event_type.payload.__name__}",
            "data",
        )
    if not isinstance(event.time, datetime) or event.time.utcoffset() is None:
        raise _bad("time", "time must be a timezone-aware datetime")
    if not isinstance(event.time_source, TimeSource):
        raise _bad("time", f"time_source {event.time_source!r} is not a TimeSource")
    if event.datacontenttype != JSON_CONTENT_TYPE:
        raise EventError(
            ReasonCode.BAD_CONTENT_TYPE,
            f"datacontenttype {event.datacontenttype!r} is not {JSON_CONTENT_TYPE}",
            "datacontenttype",
        )
    if event.dataschema is not None and event.dataschema != event_type.dataschema:
        raise _bad("dataschema", f"dataschema of {event.type} is {event_type.dataschema}")
    optional: tuple[tuple[str, str | None], ...] = (
        ("subject", event.subject),
        ("partitionkey", event.partitionkey),
        ("traceparent", event.traceparent),
        ("tracestate", event.tracestate),
        ("causationid", event.causationid),
    )
    for name, maybe in optional:
        if maybe is not None and (not maybe or not isinstance(maybe, str)):
            raise _bad(name, f"{name} must be a non-empty string when present")
    if event_type.subject_field is not None and event.subject is not None:
        expected = getattr(event.data, event_type.subject_field)
        if event.subject != expected:
            raise EventError(
                ReasonCode.HEADER_BODY_CONFLICT,
                f"subject {event.subject!r} differs from data.{event_type.subject_field} {expected!r}",
                "subject",
            )
    for name, value in event.extensions.items():
        if name in RESERVED_NAMES or not EXTENSION_NAME.fullmatch(name):
            raise _bad(name, f"extension name {name!r} is reserved or not [a-z0-9]+")
        if not isinstance(value, str):
            raise _bad(name, f"extension {name} must be a string")
