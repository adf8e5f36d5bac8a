"""The scoring behaviour suite on FastStream's in-memory broker (TestKafkaBroker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from events import Decoded, Event, KafkaRecord, decode_kafka
from rtinfer.model.synthetic import write_synthetic_artifact
from services.adapters.kafka.publish import BrokerPublisher
from services.adapters.kafka.records import keep_raw
from services.model.inprocess import InProcessModel
from services.scoring.app import ScoringApp
from services.scoring.settings import ScoringSettings, Topics
from tests.behaviour import scoring as behaviour
from tests.unit.scoring.fakes import FakeFeatures, FakeVectors

pytestmark = pytest.mark.unit


class MemoryHarness:
    def __init__(self, tmp_path: Path) -> None:
        artifact = write_synthetic_artifact(tmp_path / "model")
        self.version = artifact.version
        self.settings = ScoringSettings(
            topics=Topics(
                payments="m-payments", predictions="m-predictions", explanations="m-explanations", dlq="m-dlq"
            ),
            model_dir=tmp_path / "model",
            http_port=0,
        )
        self.broker = KafkaBroker("in-memory:9092")
        self.seen: dict[str, list[Event[Any]]] = {"m-predictions": [], "m-dlq": []}
        for topic in self.seen:
            self._collector(topic)
        self.service = ScoringApp(
            self.settings,
            broker=self.broker,
            features=FakeFeatures({}),
            model=InProcessModel(artifact),
            vectors=FakeVectors(),
            publisher=BrokerPublisher(self.broker),
        )

    def _collector(self, topic: str) -> None:
        @self.broker.subscriber(topic, decoder=keep_raw)
        async def collect(message: KafkaMessage) -> None:
            raw = message.raw_message
            headers = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in (raw.headers or ())]
            result = decode_kafka(
                raw.key if isinstance(raw.key, bytes | None) else str(raw.key).encode(), raw.value, headers
            )
            assert isinstance(result, Decoded), result
            self.seen[topic].append(result.event)

    async def send(self, records: list[KafkaRecord]) -> None:
        for record in records:
            headers = {name: value.decode() for name, value in record.headers}
            await self.broker.publish(
                record.value, self.settings.topics.payments, key=record.key, headers=headers
            )

    async def collect(self, topic: str, count: int) -> list[Event[Any]]:
        return list(self.seen[topic])


@pytest.fixture
async def harness(tmp_path: Path):  # type: ignore[no-untyped-def]
    built = MemoryHarness(tmp_path)
    async with TestKafkaBroker(built.broker):
        await built.service.start()
        try:
            yield built
        finally:
            await built.service.stop()


async def test_every_payment_gets_one_prediction_in_order(harness: MemoryHarness) -> None:
    await behaviour.every_payment_gets_one_prediction_in_order(
        harness.send, harness.collect, harness.settings.topics.predictions, harness.version
    )


async def test_malformed_input_goes_to_the_dlq(harness: MemoryHarness) -> None:
    await behaviour.malformed_input_goes_to_the_dlq_with_its_origin(
        harness.send, harness.collect, harness.settings.topics.dlq, harness.settings.topics.payments
    )
