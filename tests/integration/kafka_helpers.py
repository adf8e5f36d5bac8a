"""Helpers for integration tests against the real broker: topics, lag, reading a topic."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services.adapters.kafka.admin import create_topics as admin_create_topics
from services.adapters.kafka.settings import KafkaSettings


async def create_topics(bootstrap: str, *names: str, partitions: int = 3) -> None:
    await admin_create_topics(KafkaSettings(bootstrap=bootstrap), names, partitions)


async def group_lag(bootstrap: str, group_id: str, topic: str) -> int:
    """Records in `topic` not yet committed by `group_id` (all of them if it never committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        [description] = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in description["partitions"]]
        assert partitions, f"topic {topic} has no partitions"
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        lag = 0
        for partition in partitions:
            meta = committed.get(partition)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag += ends[partition] - done
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def wait_caught_up(bootstrap: str, group_id: str, topic: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    lag = -1
    while time.monotonic() < deadline:
        try:
            lag = await group_lag(bootstrap, group_id, topic)
        except KafkaError as error:  # e.g. the group coordinator of a fresh broker not ready yet
            if not error.retriable:
                raise
            await asyncio.sleep(0.5)
            continue
        if lag == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"group {group_id} still {lag} records behind on {topic} after {timeout_s}s")


async def read_all(
    bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0, *, read_committed: bool = False
) -> list:  # type: ignore[type-arg]
    """Read `topic` from the beginning until `expected` records arrived (or time runs out).

    Args:
        read_committed: see only records of committed transactions (exactly-once outputs).
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed" if read_committed else "read_uncommitted",
    )
    await consumer.start()
    records = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The partitions of `topic`, from the admin client (no consumer group involved)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in description["partitions"]]


async def read_to_end(
    bootstrap: str, topic: str, *, read_committed: bool = False, timeout_s: float = 60.0
) -> list:  # type: ignore[type-arg]
    """Every record of `topic` up to its end offsets as of the call (duplicates included), for
    audits that must not stop at a count; read_committed: only committed transactions."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed" if read_committed else "read_uncommitted",
    )
    partitions = await topic_partitions(bootstrap, topic)
    assert partitions, f"topic {topic} has no partitions"
    await consumer.start()
    records: list = []  # type: ignore[type-arg]
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            positions = {tp: await consumer.position(tp) for tp in ends}
            if all(positions[tp] >= end for tp, end in ends.items()):
                break
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for batch in batches.values():
                records.extend(batch)
        else:
            raise AssertionError(f"{topic} not read to its end within {timeout_s}s")
    finally:
        await consumer.stop()
    return records
