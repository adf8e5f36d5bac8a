"""What is on a dead-letter topic, and which records a replay re-publishes where (no I/O).

A dead-letter topic holds our letters (`dev.rtinfer.deadletter.v2`) and, in push mode, the
events Knative's KafkaSink dead-lettered itself: the original CloudEvent with `knativeerror*`
extension attributes. Both become an `Entry`; a replay turns an entry back into the record it
was and publishes it only to an allowed topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import orjson

from events import DEADLETTER, DeadLetter, Decoded, HttpOrigin, KafkaOrigin, RawInput, decode_kafka
from rtinfer.dlq.http_to_kafka import http_to_kafka

LEGACY_V1 = "dev.rtinfer.deadletter.v1"
_OURS = "dev.rtinfer.deadletter."
Kind = Literal["rtinfer", "knative"]


@dataclass(frozen=True)
class DlqRecord:
    """One record read from the dead-letter topic, client-neutral."""

    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]
    timestamp_ms: int
    offset: str = ""  # "partition:offset", to name the record in messages


@dataclass(frozen=True)
class Entry:
    """A dead letter of either kind: why it failed, and the original to re-publish.

    `topic` is where it came from (None for HTTP-origin and Knative letters); `problem` says why
    it cannot be replayed (a truncated letter, an HTTP batch body, ...), or is None.
    """

    letter_id: str
    kind: Kind
    reason: str
    stage: str
    first_seen: datetime
    origin: str
    topic: str | None
    original: RawInput
    problem: str | None = None


@dataclass
class Inventory:
    """Everything read from the topic: entries, and what could not be read as one."""

    entries: list[Entry] = field(default_factory=list)
    legacy_v1: int = 0  # letters of the previous type, not replayed (their bytes were re-serialised)
    unreadable: int = 0

    def add(self, record: DlqRecord, max_bytes: int) -> None:
        verdict = classify(record, max_bytes)
        if isinstance(verdict, Entry):
            self.entries.append(verdict)
        elif verdict == "legacy_v1":
            self.legacy_v1 += 1
        else:
            self.unreadable += 1


def classify(record: DlqRecord, max_bytes: int) -> Entry | Literal["legacy_v1", "unreadable"]:
    """Our letter, a Knative letter (any other CloudEvent), an old v1 letter, or unreadable."""
    attributes = _attributes(record)
    event_type = attributes.get("type")
    if event_type == DEADLETTER:
        headers = [(name, value) for name, value in record.headers if value is not None]
        result = decode_kafka(record.key, record.value or b"", headers, max_bytes=max_bytes)
        if isinstance(result, Decoded) and isinstance(result.event.data, DeadLetter):
            return _letter_entry(result.event.id, result.event.data)
        return "unreadable"
    if event_type == LEGACY_V1:
        return "legacy_v1"
    if event_type is None or event_type.startswith(_OURS):  # not a CloudEvent, or a version we do not know
        return "unreadable"
    return _knative_entry(record, attributes)


def _letter_entry(letter_id: str, letter: DeadLetter) -> Entry:
    origin = letter.origin
    problem = "truncated: the letter keeps only part of the original" if letter.truncated else None
    try:
        original = letter.original()
    except ValueError as error:
        original, problem = RawInput(None), f"corrupt base64 in the letter: {error}"
    if isinstance(origin, HttpOrigin) and problem is None:
        original, problem = http_to_kafka(original)
    if problem is None and not all(_sendable_name(name) for name, _ in original.headers):
        problem = "a header name is not UTF-8, so no Kafka client can send it"
    return Entry(
        letter_id=letter_id,
        kind="rtinfer",
        reason=letter.reason,
        stage=letter.stage,
        first_seen=letter.first_seen,
        origin=origin.topic if isinstance(origin, KafkaOrigin) else f"http:{origin.path or '/'}",
        topic=origin.topic if isinstance(origin, KafkaOrigin) else None,
        original=original,
        problem=problem,
    )


def _knative_entry(record: DlqRecord, attributes: dict[str, str]) -> Entry:
    # Replayed as it is: the same value, key and headers (knativeerror* included).
    code = attributes.get("knativeerrorcode", "")
    return Entry(
        letter_id=attributes.get("id") or record.offset,
        kind="knative",
        reason=f"knative_{code}" if code.isalnum() and code.isascii() else "knative",
        stage="delivery",
        first_seen=datetime.fromtimestamp(record.timestamp_ms / 1000, UTC),
        origin=f"knative:{attributes.get('knativeerrordest', '?')}",
        topic=None,
        original=RawInput(record.value, tuple(record.headers), record.key),
    )


def _attributes(record: DlqRecord) -> dict[str, str]:
    """The CloudEvents attributes of a record in binary mode (ce_ headers) or structured mode
    (top-level strings of a JSON object); empty when it is neither."""
    found = {
        name[3:].lower(): value.decode("utf-8", "replace")
        for name, value in record.headers
        if name.lower().startswith("ce_") and value is not None
    }
    if "type" in found or not record.value or record.value.lstrip()[:1] != b"{":
        return found
    try:
        envelope = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return found
    if isinstance(envelope, dict):
        found.update((name, text) for name, text in envelope.items() if isinstance(text, str))
    return found


def _sendable_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class ReplayFilter:
    reasons: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    stages: frozenset[str] = frozenset()

    def accepts(self, entry: Entry) -> bool:
        if self.reasons and entry.reason not in self.reasons:
            return False
        if self.stages and entry.stage not in self.stages:
            return False
        if self.since and entry.first_seen < self.since:
            return False
        return not (self.until and entry.first_seen > self.until)


@dataclass(frozen=True)
class Replay:
    """One dead letter turned back into the record it was, and where it goes."""

    letter_id: str
    topic: str
    record: RawInput


@dataclass
class Plan:
    """What a replay sends, and what it holds back and why."""

    replays: list[Replay] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # target topic not allowed
    no_target: int = 0  # HTTP-origin or Knative letters, and no --to
    not_replayable: Counter[str] = field(default_factory=Counter)  # problem -> letters

    @property
    def held_back(self) -> int:
        return sum(self.refused.values()) + self.no_target + sum(self.not_replayable.values())


def plan_replay(
    entries: Iterable[Entry], keep: ReplayFilter, default_topic: str | None, allowed: frozenset[str]
) -> Plan:
    """The records to re-publish: each to its origin topic, or `default_topic` for letters that
    have none; only to `allowed` topics, since anyone who can write the dead-letter topic
    chooses what its letters say."""
    plan = Plan()
    for entry in entries:
        if not keep.accepts(entry):
            continue
        if entry.problem is not None:
            plan.not_replayable[entry.problem.split(":")[0]] += 1
            continue
        topic = entry.topic or default_topic
        if topic is None:
            plan.no_target += 1
        elif topic not in allowed:
            plan.refused[topic] += 1
        else:
            plan.replays.append(Replay(entry.letter_id, topic, entry.original))
    return plan
