"""The scoring behaviour suite against the real broker (same checks as on the in-memory one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from events import Decoded, Event, KafkaRecord, decode_kafka
from rtinfer.model.synthetic import write_synthetic_artifact
from rtinfer.producer.kafka import produce_records
from services.adapters.kafka.settings import KafkaSettings
from services.model.inprocess import InProcessModel
from services.scoring.app import ScoringApp
from services.scoring.settings import ScoringSettings, Topics
from tests.behaviour import scoring as behaviour
from tests.integration.kafka_helpers import create_topics, read_all
from tests.servers import KafkaEndpoint
from tests.unit.scoring.fakes import FakeFeatures, FakeVectors


class RealHarness:
    def __init__(self, kafka: KafkaEndpoint, name: str, tmp_path: Path) -> None:
        artifact = write_synthetic_artifact(tmp_path / "model")
        self.version = artifact.version
        self.kafka = KafkaSettings(bootstrap=kafka.bootstrap)
        self.settings = ScoringSettings(
            kafka=self.kafka,
            topics=Topics(
                payments=f"{name}-payments",
                predictions=f"{name}-predictions",
                explanations=f"{name}-explanations",
                dlq=f"{name}-dlq",
            ),
            group_id=f"{name}-scoring",
            model_dir=tmp_path / "model",
            http_port=0,
        )
        self.service = ScoringApp(
            self.settings, features=FakeFeatures({}), model=InProcessModel(artifact), vectors=FakeVectors()
        )

    async def send(self, records: list[KafkaRecord]) -> None:
        await produce_records(records, kafka=self.kafka, topic=self.settings.topics.payments)

    async def collect(self, topic: str, count: int) -> list[Event[Any]]:
        records = await read_all(self.kafka.bootstrap, topic, count, timeout_s=60)
        decoded = [decode_kafka(r.key, r.value, r.headers) for r in records]
        assert all(isinstance(d, Decoded) for d in decoded)
        return [d.event for d in decoded if isinstance(d, Decoded)]


@pytest.fixture
async def harness(kafka: KafkaEndpoint, unique_name: str, tmp_path: Path) -> AsyncIterator[RealHarness]:
    built = RealHarness(kafka, unique_name, tmp_path)
    topics = built.settings.topics
    await create_topics(kafka.bootstrap, topics.payments, topics.predictions, topics.explanations, topics.dlq)
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


async def test_every_payment_gets_one_prediction_in_order(harness: RealHarness) -> None:
    await behaviour.every_payment_gets_one_prediction_in_order(
        harness.send, harness.collect, harness.settings.topics.predictions, harness.version
    )


async def test_malformed_input_goes_to_the_dlq(harness: RealHarness) -> None:
    await behaviour.malformed_input_goes_to_the_dlq_with_its_origin(
        harness.send, harness.collect, harness.settings.topics.dlq, harness.settings.topics.payments
    )
