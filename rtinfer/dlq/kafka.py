"""Reading the dead-letter topic and publishing replays with aiokafka."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from rtinfer.dlq.replay import DlqRecord, Inventory, Replay
from services.adapters.kafka.settings import KafkaSettings

# aiokafka's own defaults, raised when letters may be larger.
_FETCH_MAX_BYTES = 50 * 1024 * 1024
_PARTITION_FETCH_BYTES = 1024 * 1024


async def read_dead_letters(
    kafka: KafkaSettings, topic: str, idle_timeout_s: float, max_bytes: int
) -> Inventory:
    """Every record on the topic from the start (no consumer group, nothing committed).

    Fetch sizes cover `max_bytes`, so a letter as large as the producer allowed is read, and
    it is decoded with the same bound.
    """
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.aiokafka_kwargs(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_bytes=max(_FETCH_MAX_BYTES, max_bytes),
        max_partition_fetch_bytes=max(_PARTITION_FETCH_BYTES, max_bytes),
    )
    inventory = Inventory()
    await consumer.start()
    try:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < idle_timeout_s:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            if any(batches.values()):
                idle_since = time.monotonic()
            for records in batches.values():
                for record in records:
                    inventory.add(
                        DlqRecord(
                            key=record.key,
                            value=record.value,
                            headers=list(record.headers or ()),
                            timestamp_ms=record.timestamp,
                            offset=f"{record.partition}:{record.offset}",
                        ),
                        max_bytes,
                    )
    finally:
        await consumer.stop()
    return inventory


async def publish_replays(kafka: KafkaSettings, plan: list[Replay], max_bytes: int) -> int:
    """Send every record (in order, acks=all, idempotent); the number acknowledged."""
    producer = AIOKafkaProducer(**kafka.producer_kwargs(max_request_size=max_bytes))
    await producer.start()
    sent = 0
    try:
        pending = []
        for item in plan:
            record = item.record
            try:
                pending.append(
                    await producer.send(
                        item.topic, record.value, key=record.key, headers=list(record.headers)
                    )
                )
            except KafkaError:
                continue  # e.g. too large: counted as not sent, the caller reports the difference
        for delivery in pending:
            try:
                await delivery
            except KafkaError:
                continue
            sent += 1
    finally:
        await producer.stop()
    return sent
