"""Publishing payment records to Kafka at a target rate, acks=all and idempotent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events import KafkaRecord
from services.adapters.kafka.settings import KafkaSettings


@dataclass
class ProduceSummary:
    sent: int = 0
    acknowledged: int = 0
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


async def produce_records(
    records: Iterable[KafkaRecord],
    *,
    kafka: KafkaSettings,
    topic: str,
    rate: float | None = None,
    duration_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ProduceSummary:
    """Send records paced at `rate` per second (None: as fast as acks allow).

    Stops at the end of `records` or after `duration_s`. Every send is awaited before
    returning, so the summary counts real acknowledgements.
    """
    producer = AIOKafkaProducer(**kafka.producer_kwargs(linger_ms=5))
    summary = ProduceSummary()
    pending: set[asyncio.Future[object]] = set()

    def settled(future: asyncio.Future[object]) -> None:
        pending.discard(future)
        if future.cancelled() or future.exception() is not None:
            summary.errors += 1
            if len(summary.error_samples) < 5:
                summary.error_samples.append(repr(future.exception()))
        else:
            summary.acknowledged += 1
        if on_progress:
            on_progress(1)

    await producer.start()
    started = time.perf_counter()
    try:
        for record in records:
            elapsed = time.perf_counter() - started
            if duration_s is not None and elapsed >= duration_s:
                break
            if rate:
                ahead = summary.sent / rate - elapsed
                if ahead > 0:
                    await asyncio.sleep(ahead)
            try:
                future = await producer.send(topic, record.value, key=record.key, headers=record.headers)
            except KafkaError as error:
                summary.errors += 1
                summary.error_samples.append(repr(error))
                continue
            summary.sent += 1
            pending.add(future)
            future.add_done_callback(settled)
        await producer.flush()
        if pending:
            await asyncio.wait(pending)
    finally:
        await producer.stop()
        summary.seconds = time.perf_counter() - started
    return summary
