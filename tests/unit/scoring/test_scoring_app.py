"""ScoringApp's lifecycle on FastStream's in-memory broker: the Kafka ingress gets its runtime
at start, the HTTP ingress scores a pushed event, SIGTERM stops the app."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from events import PREDICTION, Mode, encode_http, encode_kafka
from events.testing import sample_payment_event
from rtinfer.model.synthetic import write_synthetic_artifact
from services.adapters.kafka.publish import MemoryPublisher
from services.core.scoring.pipeline import ScoringItem
from services.model.inprocess import InProcessModel
from services.scoring.app import ScoringApp
from services.scoring.kafka_ingress import KafkaIngress
from services.scoring.runtime import HandleResult, RejectedInput
from services.scoring.settings import ScoringSettings, Topics
from tests.unit.scoring.fakes import FakeFeatures, FakeVectors

pytestmark = pytest.mark.unit


class RecordingRuntime:
    def __init__(self) -> None:
        self.batches: list[int] = []

    async def handle(self, items: Sequence[ScoringItem], rejected: Sequence[RejectedInput]) -> HandleResult:
        self.batches.append(len(items) + len(rejected))
        return HandleResult()


def _settings(unique_name: str, model_dir: Path, **overrides: Any) -> ScoringSettings:
    topics = Topics(
        payments=f"{unique_name}-payments",
        predictions=f"{unique_name}-predictions",
        explanations=f"{unique_name}-explanations",
        dlq=f"{unique_name}-dlq",
    )
    return ScoringSettings(topics=topics, model_dir=model_dir, **{"http_port": 0, **overrides})


def _app(
    settings: ScoringSettings, broker: KafkaBroker, publisher: MemoryPublisher, **options: Any
) -> ScoringApp:
    return ScoringApp(
        settings,
        broker=broker,
        features=FakeFeatures({}),
        model=InProcessModel(settings.model_dir),
        vectors=FakeVectors(),
        publisher=publisher,
        **options,
    )


async def test_the_kafka_ingress_hands_batches_to_the_runtime_it_got_at_start(
    unique_name: str, tmp_path: Path
) -> None:
    # (Batches before start or after stop are nacked; the in-memory broker cannot nack a batch.)
    settings = _settings(unique_name, tmp_path / "model")
    broker = KafkaBroker("in-memory:9092")
    ingress = KafkaIngress(settings, broker)
    runtime = RecordingRuntime()
    record = encode_kafka(sample_payment_event(payment_id="pay-ingress-1"))
    headers = {name: value.decode() for name, value in record.headers}

    async def send() -> None:
        await broker.publish(record.value, settings.topics.payments, key=record.key, headers=headers)

    async with TestKafkaBroker(broker):
        ingress.start(runtime)  # type: ignore[arg-type]
        await send()
        await send()
        await ingress.stop()
    assert runtime.batches == [1, 1]


async def test_the_http_ingress_scores_a_pushed_event(
    unique_name: str, tmp_path: Path, free_port: int
) -> None:
    write_synthetic_artifact(tmp_path / "model")
    settings = _settings(unique_name, tmp_path / "model", http_port=free_port)
    broker, outputs = KafkaBroker("in-memory:9092"), MemoryPublisher()
    app = _app(settings, broker, outputs, ingress="http")
    with pytest.raises(RuntimeError, match="not started"):
        _ = app.runtime
    headers, body = encode_http(sample_payment_event(payment_id="pay-http-1"), Mode.BINARY)
    async with TestKafkaBroker(broker):
        await app.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{free_port}") as client:
                answer = await client.post("/", content=body, headers=headers)
        finally:
            await app.stop()
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    predictions = outputs.topics[settings.topics.predictions]
    assert [(p.type, p.data.input_id) for p in predictions] == [(PREDICTION, "pay-http-1")]


async def test_run_until_signal_stops_on_sigterm(
    unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_synthetic_artifact(tmp_path / "model")
    settings = _settings(unique_name, tmp_path / "model", shutdown_timeout_s=5.0)
    broker = KafkaBroker("in-memory:9092")
    app = _app(settings, broker, MemoryPublisher())
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
        await asyncio.wait_for(started.wait(), 30)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 10)
    assert stopped.is_set()


async def test_the_lag_of_a_revoked_partition_is_forgotten(unique_name: str, tmp_path: Path) -> None:
    from aiokafka import TopicPartition

    from services.scoring.kafka_ingress import _ForgetRevoked, _lag_key

    lag = {_lag_key("payments", 0): 5.0, _lag_key("payments", 1): 7.0}
    await _ForgetRevoked(lag).on_partitions_revoked([TopicPartition("payments", 1)])
    assert lag == {_lag_key("payments", 0): 5.0}
