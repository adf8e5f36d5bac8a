"""The feature writer under load: throughput on a backlog, and feature lag at a fixed rate.

The writer runs in this process as its app (services.features.app.FeatureWriterApp) with
the real Feast pusher on Redis, wrapped to note when each push returned and which card rows
it carried. Lag of an event = the end of the first push whose row for its card is at or after
the event's time, minus that time. The load producer (a child process) stamps each payment
with the moment it is sent, so event time is send time and lag is event -> visible online.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import redis.asyncio as aioredis

from benchmarks.kafka_io import OutRecord
from events import KafkaRecord, Payment, encode_kafka, new_payment_event
from rtinfer.producer.payments import PAYMENT_COLUMNS
from services.adapters.feast.store import FeastPusher
from services.features.app import FeatureWriterApp
from services.features.settings import FeatureWriterSettings

CARD_TIME = "card_last_payment_ts"


@dataclass(frozen=True)
class Push:
    started_s: float
    ended_s: float
    card_times: dict[str, float]  # card -> the time of the latest payment its row covers


@dataclass
class RecordingPusher:
    """Feast's pusher, noting each push's wall-clock span and the card rows it carried."""

    inner: FeastPusher
    pushes: list[Push] = field(default_factory=list)

    async def push(self, rows: pd.DataFrame) -> None:
        started = time.time()
        await self.inner.push(rows)
        cards = dict(zip(rows["card_id"].astype(str), rows[CARD_TIME].astype(float), strict=True))
        self.pushes.append(Push(started, time.time(), cards))

    def take(self) -> list[Push]:
        pushes, self.pushes = self.pushes, []
        return pushes


class RunningWriter:
    """The feature writer app, started on this event loop."""

    def __init__(self, settings: FeatureWriterSettings, pusher: RecordingPusher) -> None:
        self._settings = settings
        self._app = FeatureWriterApp(settings, pusher=pusher)

    async def __aenter__(self) -> RunningWriter:
        await self._app.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.wait_for(self._app.stop(), 60.0)


@dataclass(frozen=True)
class LivePayments:
    """A RecordMaker: the i-th payment of a cycle of rows, stamped with the time it is made.

    Picklable (plain rows), so a child process can produce with it.
    """

    rows: Sequence[dict[str, Any]]
    tag: str

    @classmethod
    def of(cls, payments: pd.DataFrame, tag: str) -> LivePayments:
        columns = [name for name in PAYMENT_COLUMNS if name != "timestamp"]
        frame = payments.loc[:, columns].astype({"amount": float})
        return cls(frame.to_dict(orient="records"), tag)

    def __call__(self, index: int) -> KafkaRecord:
        fields = dict(self.rows[index % len(self.rows)])
        fields["payment_id"] = f"{self.tag}.{index}"
        fields["timestamp"] = datetime.now(UTC)
        payment = Payment.model_validate(fields, strict=False)
        return encode_kafka(new_payment_event(payment, source="/rtinfer/bench"))


def event_lags_s(inputs: Sequence[OutRecord], pushes: Sequence[Push]) -> tuple[list[float], int]:
    """Event -> visible lag of each input, and how many were never seen in a push."""
    by_card: dict[str, list[tuple[float, float]]] = {}
    for push in sorted(pushes, key=lambda push: push.ended_s):
        for card, covered in push.card_times.items():
            by_card.setdefault(card, []).append((push.ended_s, covered))
    lags, missing = [], 0
    for record in inputs:
        payment = json.loads(record.value)
        event_s = datetime.fromisoformat(payment["timestamp"]).timestamp()
        visible = next(
            (ended for ended, covered in by_card.get(payment["card_id"], []) if covered >= event_s - 1e-6),
            None,
        )
        if visible is None:
            missing += 1
        else:
            lags.append(visible - event_s)
    return lags, missing


async def delete_state(redis_url: str, prefix: str) -> int:
    """Remove the writer's card state keys of one run (every key starting with `prefix`)."""
    client = aioredis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
        return len(keys)
    finally:
        await client.aclose()  # type: ignore[attr-defined]  # (types-redis predates aclose)
