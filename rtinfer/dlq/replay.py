"""Re-publishing dead letters to their origin topic, filtered by reason and time."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from events import DeadLetter, Event, KafkaOrigin, KafkaRecord
from events.deadletter import BASE64_PREFIX


@dataclass(frozen=True)
class ReplayFilter:
    reasons: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    stages: frozenset[str] = frozenset()

    def accepts(self, letter: Event[DeadLetter]) -> bool:
        data = letter.data
        if self.reasons and data.reason not in self.reasons:
            return False
        if self.stages and data.stage not in self.stages:
            return False
        if self.since and data.first_seen < self.since:
            return False
        return not (self.until and data.first_seen > self.until)


@dataclass(frozen=True)
class Replay:
    """One dead letter turned back into the record it was, and where it goes."""

    letter_id: str
    topic: str
    record: KafkaRecord


def original_record(letter: Event[DeadLetter]) -> KafkaRecord:
    """The original value, headers and key, as they were read (JSON re-serialised compactly)."""
    data = letter.data
    if data.payload_base64 is not None:
        value = base64.b64decode(data.payload_base64)
    else:
        value = orjson.dumps(data.payload_json)
    headers = [(name, header_bytes(text)) for name, text in data.original_headers.items()]
    key = letter.partitionkey.encode() if letter.partitionkey else None
    return KafkaRecord(key, value, headers)


def header_bytes(text: str) -> bytes:
    """The inverse of events.deadletter.header_text."""
    if text.startswith(BASE64_PREFIX):
        return base64.b64decode(text[len(BASE64_PREFIX) :])
    return text.encode()


def plan_replay(letters: Iterable[Event[Any]], keep: ReplayFilter, default_topic: str | None) -> list[Replay]:
    """The records to re-publish: Kafka letters go back to their origin topic, HTTP ones to
    `default_topic` (skipped when none is given)."""
    plan = []
    for letter in letters:
        if not isinstance(letter.data, DeadLetter) or not keep.accepts(letter):
            continue
        origin = letter.data.origin
        topic = origin.topic if isinstance(origin, KafkaOrigin) else default_topic
        if topic is None:
            continue
        plan.append(Replay(letter.id, topic, original_record(letter)))
    return plan
