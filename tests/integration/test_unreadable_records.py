"""A record aiokafka cannot parse (header key bytes 78 ff fe) on the real broker: the guarded
FastStream batch subscriber reports it once, skips it, loses nothing on any partition and
catches up. kcat writes the record: aiokafka's producer only takes str header keys."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.adapters.kafka.unreadable import UnreadableRecordGuard
from tests.integration.kafka_helpers import create_topics, wait_caught_up
from tests.servers import KafkaEndpoint

KCAT = shutil.which("kcat")
PARTITIONS = 3
BAD_PARTITION = 1


async def produce_valid(bootstrap: str, topic: str, phase: str, per_partition: int) -> set[bytes]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        values = {p: [f"{phase}-{p}-{i}".encode() for i in range(per_partition)] for p in range(PARTITIONS)}
        sent = [await producer.send(topic, v, partition=p) for p, vs in values.items() for v in vs]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return {v for vs in values.values() for v in vs}


async def end_offset(bootstrap: str, topic: str, partition: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


def produce_unreadable(bootstrap: str, topic: str, partition: int) -> None:
    assert KCAT is not None
    header = b"x\xff\xfe=v"  # kcat writes the header key bytes as given
    command: list[str | bytes] = [
        KCAT,
        "-P",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-p",
        str(partition),
        "-H",
        header,
    ]
    subprocess.run(command, input=b"unreadable\n", check=True, timeout=60)


class GuardedConsumer:
    """A real FastStream batch subscriber (AckPolicy.MANUAL, ack after the handler) with the
    guard installed; keeps every value the handler saw and every unreadable record reported."""

    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        self.seen: list[bytes] = []
        self.reports: list[tuple[str, int, int, str]] = []
        self.broker = KafkaBroker(bootstrap)
        subscriber = self.broker.subscriber(
            topic,
            batch=True,
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            max_records=100,
            batch_timeout_ms=200,
        )
        subscriber(self._handle)
        self.guard = UnreadableRecordGuard(subscriber, self._on_unreadable)
        self.guard.install()

    async def _handle(self, message: KafkaMessage) -> None:
        self.seen.extend(record.value for record in message.raw_message)
        await message.ack()

    async def _on_unreadable(self, topic: str, partition: int, offset: int, error_text: str) -> None:
        self.reports.append((topic, partition, offset, error_text))

    async def wait_for(self, values: set[bytes], timeout_s: float = 90) -> None:
        """Until the handler saw all of `values` or time ran out (the caller's asserts say what is missing)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if values <= set(self.seen):
                return
            await asyncio.sleep(0.2)


needs_kcat = pytest.mark.skipif(
    KCAT is None, reason="needs kcat (Debian package kcat) to write a non-UTF-8 header key"
)


@needs_kcat
async def test_an_unreadable_record_is_reported_once_and_nothing_else_is_lost(
    kafka: KafkaEndpoint, unique_name: str
) -> None:
    topic, group = unique_name, f"{unique_name}-g"
    await create_topics(kafka.bootstrap, topic, partitions=PARTITIONS)
    # Few records before the bad one on its partition, more on the others: the poll that hits
    # it has usually drained another partition first (the records that used to be lost).
    expected = await produce_valid(kafka.bootstrap, topic, "before", per_partition=5)
    bad_offset = await end_offset(kafka.bootstrap, topic, BAD_PARTITION)
    produce_unreadable(kafka.bootstrap, topic, BAD_PARTITION)
    expected |= await produce_valid(kafka.bootstrap, topic, "after", per_partition=40)
    consumer = GuardedConsumer(kafka.bootstrap, topic, group)

    await consumer.broker.start()
    try:
        await consumer.wait_for(expected)
        await wait_caught_up(kafka.bootstrap, group, topic, timeout_s=60)
    finally:
        await consumer.broker.stop()

    assert expected - set(consumer.seen) == set(), "valid records never reached the handler"
    assert b"unreadable" not in consumer.seen
    assert [(t, p, o) for t, p, o, _ in consumer.reports] == [(topic, BAD_PARTITION, bad_offset)]
    assert "UnicodeDecodeError" in consumer.reports[0][3]
    assert consumer.guard.unreadable == 1
    assert consumer.guard.stuck == {}


@needs_kcat
async def test_an_unreadable_last_record_is_committed_past(kafka: KafkaEndpoint, unique_name: str) -> None:
    topic, group = unique_name, f"{unique_name}-g"
    await create_topics(kafka.bootstrap, topic, partitions=PARTITIONS)
    expected = await produce_valid(kafka.bootstrap, topic, "before", per_partition=3)
    consumer = GuardedConsumer(kafka.bootstrap, topic, group)

    await consumer.broker.start()
    try:
        await consumer.wait_for(expected)
        await wait_caught_up(kafka.bootstrap, group, topic, timeout_s=60)
        # Nothing follows it: no later ack would commit past it, so the guard does.
        produce_unreadable(kafka.bootstrap, topic, BAD_PARTITION)
        await wait_caught_up(kafka.bootstrap, group, topic, timeout_s=60)
    finally:
        await consumer.broker.stop()

    assert [(p, o) for _, p, o, _ in consumer.reports] == [(BAD_PARTITION, 3)]
    assert expected - set(consumer.seen) == set()
