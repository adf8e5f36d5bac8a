"""FeatureWriterApp on FastStream's in-memory broker: start, a batch in, rows pushed, stop."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pandas as pd
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from events import DEADLETTER, Decoded, Event, KafkaRecord, decode_kafka, encode_kafka
from events.testing import sample_payment_event
from services.adapters.kafka.records import keep_raw
from services.features.app import FeatureWriterApp
from services.features.settings import FeatureWriterSettings
from services.features.state import InMemoryCardState

pytestmark = pytest.mark.unit


class ListPusher:
    def __init__(self) -> None:
        self.rows: list[pd.DataFrame] = []

    async def push(self, rows: pd.DataFrame) -> None:
        self.rows.append(rows)


def _settings(unique_name: str) -> FeatureWriterSettings:
    return FeatureWriterSettings(payments_topic=f"{unique_name}-payments", dlq_topic=f"{unique_name}-dlq")


def _collect(broker: KafkaBroker, topic: str) -> list[Event[Any]]:
    seen: list[Event[Any]] = []

    @broker.subscriber(topic, decoder=keep_raw)
    async def collect(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        headers = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in (raw.headers or ())]
        result = decode_kafka(None, raw.value, headers)
        assert isinstance(result, Decoded), result
        seen.append(result.event)

    return seen


async def _send(broker: KafkaBroker, topic: str, record: KafkaRecord) -> None:
    headers = {name: value.decode() for name, value in record.headers}
    await broker.publish(record.value, topic, key=record.key, headers=headers)


async def test_a_batch_is_pushed_and_a_bad_record_dead_lettered(unique_name: str) -> None:
    settings = _settings(unique_name)
    broker = KafkaBroker("in-memory:9092")
    pusher = ListPusher()
    app = FeatureWriterApp(settings, broker, pusher=pusher, state=InMemoryCardState())
    letters = _collect(broker, settings.dlq_topic)
    good = encode_kafka(sample_payment_event(payment_id="pay-app-1", card_id="card-app", amount=12.5))
    async with TestKafkaBroker(broker):
        await app.start()
        try:
            await _send(broker, settings.payments_topic, good)
            await _send(broker, settings.payments_topic, KafkaRecord(b"card-app", b"{broken", good.headers))
        finally:
            await app.stop()
    assert [list(rows["card_id"]) for rows in pusher.rows] == [["card-app"]]
    assert [letter.type for letter in letters] == [DEADLETTER]
    assert letters[0].data.origin.topic == settings.payments_topic


async def test_run_until_signal_stops_on_sigterm(unique_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    broker = KafkaBroker("in-memory:9092")
    app = FeatureWriterApp(_settings(unique_name), broker, pusher=ListPusher(), state=InMemoryCardState())
    started, stopped = asyncio.Event(), asyncio.Event()
    start, stop = app.start, app.stop

    async def noted_start() -> None:
        await start()
        started.set()

    async def noted_stop() -> None:
        await stop()
        stopped.set()

    monkeypatch.setattr(app, "start", noted_start)
    monkeypatch.setattr(app, "stop", noted_stop)
    async with TestKafkaBroker(broker):
        running = asyncio.create_task(app.run_until_signal())
        await asyncio.wait_for(started.wait(), 10)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 10)
    assert stopped.is_set()
