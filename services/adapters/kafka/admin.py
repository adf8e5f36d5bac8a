"""Kafka topic administration and reading a topic from the start (tools, demo, benchmarks, tests)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.adapters.kafka.settings import KafkaSettings
from services.core.waiting import wait_for_count


@dataclass(frozen=True)
class OutRecord:
    """What a benchmark keeps of a consumed record."""

    timestamp_ms: int
    headers: dict[str, bytes]
    value: bytes


async def create_topics(kafka: KafkaSettings, names: Sequence[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(**kafka.aiokafka_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:  # a first send before leaders exist is retried, noisily
            described = await admin.describe_topics(list(names))
            leaders = [part.get("leader", -1) for topic in described for part in topic.get("partitions", [])]
            if len(leaders) == partitions * len(names) and min(leaders) >= 0:
                return
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def delete_topics_with_prefix(kafka: KafkaSettings, prefix: str) -> int:
    """Delete every topic whose name starts with `prefix` (a run's unique name); how many."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka_kwargs())
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
        return len(names)
    finally:
        await admin.close()


async def read_topic(
    kafka: KafkaSettings, topic: str, expected: int, timeout_s: float = 60.0
) -> list[OutRecord]:
    """Read `topic` from the beginning until `expected` records arrived or time ran out."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.aiokafka_kwargs(), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[OutRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for batch in batches.values():
                records.extend(OutRecord(r.timestamp, dict(r.headers), r.value) for r in batch)
    finally:
        await consumer.stop()
    return records


class TopicTail:
    """Reads a topic from its start in the background, so a caller can wait for a count."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self.records: list[OutRecord] = []
        self._kafka = kafka
        self._arrived = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.topic,
            **self._kafka.aiokafka_kwargs(),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._read(self._consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=50, max_records=5000)
            for batch in batches.values():
                self.records.extend(OutRecord(r.timestamp, dict(r.headers), r.value) for r in batch)
            if batches:
                self._arrived.set()

    async def wait_for(self, count: int, timeout_s: float) -> None:
        """Return once `count` records have arrived; TimeoutError naming the topic otherwise."""
        await wait_for_count(
            lambda: len(self.records), self._arrived, count, timeout_s, f"{self.topic} records"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
