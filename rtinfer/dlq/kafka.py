"""Reading the dead-letter topic and publishing replays with aiokafka."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from events import DeadLetter, Decoded, Event, decode_kafka
from rtinfer.dlq.replay import Replay
from services.adapters.kafka.settings import KafkaSettings


async def read_dead_letters(
    kafka: KafkaSettings, topic: str, idle_timeout_s: float
) -> tuple[list[Event[Any]], int]:
    """Every dead letter on the topic from the start (no consumer group, nothing committed)."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.aiokafka_kwargs(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    letters: list[Event[Any]] = []
    unreadable = 0
    await consumer.start()
    try:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < idle_timeout_s:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            if any(batches.values()):
                idle_since = time.monotonic()
            for records in batches.values():
                for record in records:
                    result = decode_kafka(record.key, record.value or b"", list(record.headers or ()))
                    if isinstance(result, Decoded) and isinstance(result.event.data, DeadLetter):
                        letters.append(result.event)
                    else:
                        unreadable += 1
    finally:
        await consumer.stop()
    return letters, unreadable


async def publish_replays(kafka: KafkaSettings, plan: list[Replay]) -> int:
    producer = AIOKafkaProducer(**kafka.producer_kwargs())
    await producer.start()
    sent = 0
    try:
        for item in plan:
            record = item.record
            await producer.send_and_wait(item.topic, record.value, key=record.key, headers=record.headers)
            sent += 1
    finally:
        await producer.stop()
    return sent
