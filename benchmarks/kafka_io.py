"""Kafka helpers for benchmarks: topics, committed progress, reading a topic, paced producing.

The load producer runs in a child process, so the CPU of this process is the system under
test's, and the producer's pacing does not share an event loop with it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from events import KafkaRecord
from services.adapters.kafka.admin import (  # noqa: F401 - re-exported for the bench modules
    OutRecord,
    create_topics,
    delete_topics_with_prefix,
    read_topic,
)
from services.adapters.kafka.settings import KafkaSettings

# OutRecord, create_topics, delete_topics_with_prefix and read_topic live in the adapter; the
# benchmark modules import them from here together with the pacing helpers below.

RecordMaker = Callable[[int], KafkaRecord]


@dataclass
class SendSummary:
    sent: int = 0
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)


async def committed_total(admin: AIOKafkaAdminClient, group_id: str, partitions: list[TopicPartition]) -> int:
    committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
    return sum(meta.offset for meta in committed.values() if meta is not None and meta.offset > 0)


async def wait_committed(
    kafka: KafkaSettings, group_id: str, topic: str, expected: int, timeout_s: float, *, partitions: int = 3
) -> bool:
    """Poll the group's committed offsets until they add up to `expected` (True) or time runs out."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka_kwargs())
    await admin.start()
    owned = [TopicPartition(topic, partition) for partition in range(partitions)]
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if await committed_total(admin, group_id, owned) >= expected:
                return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await admin.close()


async def paced_send(
    kafka: KafkaSettings, topic: str, count: int, make: RecordMaker, rate: float | None
) -> SendSummary:
    """Send `count` records, the i-th made by make(i) just before its send, paced at `rate`/s.

    acks=all and idempotent, as the services' producers; every send is awaited before returning.
    """
    producer = AIOKafkaProducer(**kafka.producer_kwargs(linger_ms=2))
    summary = SendSummary()
    pending: list[asyncio.Future[Any]] = []
    await producer.start()
    await _connected(producer, topic)
    started = time.perf_counter()
    try:
        for index in range(count):
            if rate:
                ahead = index / rate - (time.perf_counter() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            record = make(index)
            try:
                pending.append(
                    await producer.send(topic, record.value, key=record.key, headers=record.headers)
                )
            except KafkaError as error:
                summary.errors += 1
                summary.error_samples.append(repr(error))
        results = await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await producer.stop()
    failed = [result for result in results if isinstance(result, BaseException)]
    summary.sent = len(results) - len(failed)
    summary.errors += len(failed)
    summary.error_samples += [repr(error) for error in failed[:5]]
    summary.seconds = time.perf_counter() - started
    return summary


async def _connected(producer: AIOKafkaProducer, topic: str) -> None:
    """Metadata and broker connections in place before the first timed send (start() already
    got the producer id); else the first records' timestamps would include connecting."""
    await producer.partitions_for(topic)
    for broker in producer.client.cluster.brokers():
        await producer.client.ready(broker.nodeId)


def _paced_send_blocking(
    kafka: KafkaSettings, topic: str, count: int, make: RecordMaker, rate: float | None
) -> SendSummary:
    return asyncio.run(paced_send(kafka, topic, count, make, rate))


async def paced_send_in_child(
    kafka: KafkaSettings, topic: str, count: int, make: RecordMaker, rate: float | None
) -> SendSummary:
    """paced_send in a fresh child process; `make` must be picklable (a top-level class)."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, _paced_send_blocking, kafka, topic, count, make, rate)
    finally:
        # Joining the child blocks; off the event loop, or it would stall the system under test.
        await asyncio.to_thread(pool.shutdown)


@dataclass(frozen=True)
class PreEncoded:
    """A RecordMaker over records encoded up front."""

    records: Sequence[KafkaRecord]

    def __call__(self, index: int) -> KafkaRecord:
        return self.records[index]
