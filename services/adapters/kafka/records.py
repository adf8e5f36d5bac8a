"""Turning FastStream's Kafka messages into neutral records at the edge."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceRecord:
    """A consumed Kafka record, client-neutral."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None  # None: a null value (tombstone), kept so its dead letter says so
    headers: Sequence[tuple[str, bytes]]


def source_records(raw_message: Any) -> list[SourceRecord]:
    """The consumer records of a (batch) FastStream message, as SourceRecord values."""
    records = raw_message if isinstance(raw_message, (tuple, list)) else (raw_message,)
    return [
        SourceRecord(
            topic=record.topic,
            partition=int(record.partition or 0),
            offset=int(record.offset or 0),
            key=as_bytes(record.key),
            value=as_bytes(record.value),
            headers=[(name, as_bytes(value) or b"") for name, value in (record.headers or ())],
        )
        for record in records
    ]


def as_bytes(raw: Any) -> bytes | None:
    """A record key, value or header value as bytes (None stays None)."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode()
    return bytes(raw)


async def tolerant_batch_parser(records: tuple[Any, ...], original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's batch parser decodes every header value as UTF-8 (and calls .decode() on a
    null one), raising before our decoder sees the batch: the batch was then neither acked nor
    nacked, and the next ack committed past it. It gets a view with header values made safe
    text; the message keeps the untouched records, which our decoder reads (and dead-letters)."""
    safe = tuple(
        dataclasses.replace(
            record, headers=[(name, _safe_text(value)) for name, value in record.headers or ()]
        )
        for record in records
    )
    message = await original(safe)
    message.raw_message = records
    return message


def _safe_text(value: Any) -> bytes:
    if value is None:
        return b""
    raw = as_bytes(value) or b""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace").encode("utf-8")
    return raw


async def keep_raw(message: Any) -> Any:
    """A FastStream decoder that leaves bodies alone: our own decoder runs at the edge, so a
    broken payload becomes a typed failure instead of an exception inside FastStream."""
    return message.body
