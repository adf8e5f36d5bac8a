"""Publishing CloudEvents to Kafka and waiting for every acknowledgement.

Two publishers behind one call shape: aiokafka directly (the service's hot path: one
send per record, all acknowledgements awaited together) and a FastStream broker (its
in-memory test broker, for the embedded demo and behaviour tests). FastStream's publish
awaits each record on its own, which measured about 40 times slower than batched sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

from events import Event, Mode, encode_kafka
from services.adapters.kafka.settings import KafkaSettings
from services.core.errors import DependencyUnavailable


class AiokafkaPublisher:
    """acks=all and idempotence on; `publish` returns once every record is acknowledged."""

    def __init__(
        self, kafka: KafkaSettings, client_id: str, linger_ms: int = 2, mode: Mode = Mode.BINARY
    ) -> None:
        self._options = kafka.producer_kwargs(client_id=client_id, linger_ms=linger_ms)
        self._producer: AIOKafkaProducer | None = None
        self._mode = mode

    async def start(self) -> None:
        # Created here, not in __init__: aiokafka needs the running loop.
        self._producer = AIOKafkaProducer(**self._options)
        await self._producer.start()

    async def publish(self, topic: str, events: Sequence[Event[Any]]) -> None:
        if self._producer is None:
            raise RuntimeError("publisher not started")
        try:
            pending = []
            for event in events:
                record = encode_kafka(event, self._mode)
                pending.append(
                    await self._producer.send(topic, record.value, key=record.key, headers=record.headers)
                )
            await asyncio.gather(*pending)
        except KafkaError as error:
            raise DependencyUnavailable("kafka", f"publishing to {topic} failed: {error}") from error

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()  # flushes what is buffered


class TransactionalPublisher:
    """Exactly-once to Kafka: a micro-batch's outputs and its consumed offsets in one transaction.

    A read_committed reader sees the outputs once: a batch whose transaction aborted (a crash, a
    failed send, fencing by a restarted instance with the same transactional id) is read again
    and its outputs are written again in a new transaction, while the aborted ones stay hidden.
    """

    def __init__(
        self, kafka: KafkaSettings, client_id: str, transactional_id: str, linger_ms: int = 2
    ) -> None:
        self._options = kafka.producer_kwargs(
            client_id=client_id, transactional_id=transactional_id, linger_ms=linger_ms
        )
        self._producer: AIOKafkaProducer | None = None
        self._mode = Mode.BINARY

    async def start(self) -> None:
        # start() initialises the transactions: an earlier producer with this id is fenced and
        # its open transaction aborted.
        self._producer = AIOKafkaProducer(**self._options)
        await self._producer.start()

    async def commit_batch(
        self, outputs: dict[str, list[Event[Any]]], offsets: dict[tuple[str, int], int], group_id: str
    ) -> None:
        """Send every output and commit `offsets` (next offset per topic-partition) atomically."""
        if self._producer is None:
            raise RuntimeError("publisher not started")
        producer = self._producer
        try:
            async with producer.transaction():
                pending = []
                for topic, events in outputs.items():
                    for event in events:
                        record = encode_kafka(event, self._mode)
                        pending.append(
                            await producer.send(topic, record.value, key=record.key, headers=record.headers)
                        )
                await asyncio.gather(*pending)
                if offsets:
                    await producer.send_offsets_to_transaction(
                        {
                            TopicPartition(topic, partition): offset
                            for (topic, partition), offset in offsets.items()
                        },
                        group_id,
                    )
        except KafkaError as error:
            raise DependencyUnavailable("kafka", f"transaction of the batch failed: {error}") from error

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()


class BrokerPublisher:
    """Publishes through a FastStream broker (real or TestKafkaBroker)."""

    def __init__(self, broker: KafkaBroker, mode: Mode = Mode.BINARY) -> None:
        self._broker = broker
        self._mode = mode

    async def start(self) -> None:
        return None

    async def publish(self, topic: str, events: Sequence[Event[Any]]) -> None:
        await publish_events(self._broker, topic, events, self._mode)

    async def stop(self) -> None:
        return None


async def publish_events(
    broker: KafkaBroker, topic: str, events: Sequence[Event[Any]], mode: Mode = Mode.BINARY
) -> None:
    """Send all events through the broker and wait until each is acknowledged."""
    for event in events:
        record = encode_kafka(event, mode)
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers}
        await broker.publish(record.value, topic, key=record.key, headers=headers)


class MemoryPublisher:
    """Keeps published events in lists by topic: an in-process transport for the embedded demo."""

    def __init__(self) -> None:
        self.topics: dict[str, list[Event[Any]]] = {}

    async def start(self) -> None:
        return None

    async def publish(self, topic: str, events: Sequence[Event[Any]]) -> None:
        self.topics.setdefault(topic, []).extend(events)

    async def stop(self) -> None:
        return None
