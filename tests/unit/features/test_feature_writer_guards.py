"""The feature writer's guards, with the in-memory state (a fake of Redis' semantics) and a
recording pusher: payments from the future are dead-lettered, a payment counts once under any
event id, a hanging dependency times out into a retryable error. Audited by set difference."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from events import Event, encode_kafka
from events.testing import sample_payment_event
from services.adapters.kafka.records import SourceRecord
from services.core.errors import DependencyError
from services.features.state import InMemoryCardState
from services.features.writer import FeatureWriter

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class RecordingPusher:
    """Fake online store: keeps the frames it was given; can hang like a stalled server."""

    def __init__(self, hang: bool = False) -> None:
        self.frames: list[pd.DataFrame] = []
        self.hang = hang

    async def push(self, rows: pd.DataFrame) -> None:
        if self.hang:
            await asyncio.sleep(60)
        self.frames.append(rows)


def _record(event: Event[Any], offset: int) -> SourceRecord:
    encoded = encode_kafka(event)
    return SourceRecord("payments", 0, offset, encoded.key, encoded.value, list(encoded.headers))


def _writer(pusher: RecordingPusher, letters: list[Event[Any]], **options: Any) -> FeatureWriter:
    async def sink(events: Any) -> None:
        letters.extend(events)

    return FeatureWriter(
        InMemoryCardState(), pusher, sink, source="//t", clock=lambda: NOW, retry_budget_s=0.3, **options
    )


async def test_a_payment_from_the_future_is_dead_lettered_and_history_kept() -> None:
    letters: list[Event[Any]] = []
    pusher = RecordingPusher()
    writer = _writer(pusher, letters)
    past = [
        sample_payment_event(payment_id=f"p{i}", card_id="c1", timestamp=NOW - timedelta(minutes=i + 1))
        for i in range(3)
    ]
    future = sample_payment_event(
        payment_id="p-2099", card_id="c1", timestamp=datetime(2099, 1, 1, tzinfo=UTC)
    )
    records = [_record(event, i) for i, event in enumerate([*past, future])]

    report = await writer.process(records)

    assert report.counted == 3 and report.dead_lettered == 1
    [letter] = letters
    assert letter.data.reason == "time_out_of_range" and letter.causationid == "p-2099"
    row = pusher.frames[-1].set_index("card_id").loc["c1"]
    assert row["card_count_1h"] == 3.0  # the card's history is intact


async def test_a_payment_counts_once_whatever_its_event_id() -> None:
    letters: list[Event[Any]] = []
    pusher = RecordingPusher()
    writer = _writer(pusher, letters)
    payment = sample_payment_event(payment_id="p1", card_id="c1", timestamp=NOW - timedelta(minutes=1))
    resent = dataclasses.replace(payment, id="another-event-id")  # a producer's retry, new event id
    assert resent.data.payment_id == "p1"

    await writer.process([_record(payment, 0)])
    await writer.process([_record(resent, 1)])

    assert pusher.frames[-1].set_index("card_id").loc["c1"]["card_count_1h"] == 1.0
    assert letters == []


async def test_a_hanging_push_times_out_into_a_retryable_error() -> None:
    writer = _writer(RecordingPusher(hang=True), [], call_timeout_s=0.1)
    payment = sample_payment_event(payment_id="p1", card_id="c1", timestamp=NOW - timedelta(minutes=1))

    with pytest.raises(DependencyError, match="no answer within"):
        await asyncio.wait_for(writer.process([_record(payment, 0)]), 5)
