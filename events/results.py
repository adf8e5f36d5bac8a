"""What a decoder returns: a typed event, or a failure that keeps the raw input."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from events.envelope import Event
from events.reasons import ReasonCode

Headers = tuple[tuple[str, bytes], ...]


class Mode(StrEnum):
    """CloudEvents content mode on the wire."""

    BINARY = "binary"
    STRUCTURED = "structured"
    BATCH = "batch"  # HTTP only


@dataclass(frozen=True, slots=True)
class Decoded:
    """A valid event and the mode it arrived in."""

    event: Event[Any]
    mode: Mode


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """Why an input could not become an event, with the raw input kept for a dead letter.

    `field` is the attribute or payload field at fault as named on the wire
    (``ce_id``, ``ce-type``, ``id``, ``amount``), or None when the input as a whole is bad.
    `event_type` and `event_id` are filled in when they could be read.
    """

    reason: ReasonCode
    message: str
    field: str | None
    value: bytes | None  # None: a null Kafka value (a tombstone)
    headers: Headers
    key: bytes | None = None
    event_type: str | None = None
    event_id: str | None = None
