"""The one way our consumers subscribe: a FastStream batch subscriber that commits only when told.

Manual acks (ack after the outputs are acknowledged, nack to read again), our own decoder at the
edge (bodies left raw), FastStream's parser wrapped so hostile header values cannot fail a
batch before our decoder sees it, and the unreadable-record guard installed on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from services.adapters.kafka.records import keep_raw, tolerant_batch_parser
from services.adapters.kafka.unreadable import OnUnreadable, UnreadableRecordGuard


def batch_subscriber(
    broker: KafkaBroker,
    topics: Sequence[str],
    handler: Callable[[Any], Awaitable[None]],
    on_unreadable: OnUnreadable,
    *,
    group_id: str,
    max_records: int,
    batch_timeout_ms: int,
    title: str,
    description: str,
    listener: Any = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Any, UnreadableRecordGuard]:
    """Register `handler` for batches of `topics`; returns the subscriber and its guard."""
    subscriber = broker.subscriber(
        *topics,
        batch=True,
        group_id=group_id,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=keep_raw,
        parser=tolerant_batch_parser,
        listener=listener,
        title=title,
        description=description,
    )
    subscriber(handler)
    guard = UnreadableRecordGuard(subscriber, on_unreadable, clock=clock)
    guard.install()
    return subscriber, guard
