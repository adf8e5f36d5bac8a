"""Smoke tests a and b: CloudEvents over the real broker, plain aiokafka and FastStream."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cloudevents.http import CloudEvent
from cloudevents.kafka import KafkaMessage, from_binary, to_binary
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage as FastStreamKafkaMessage

from tests.servers import KafkaEndpoint

SendFn = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[None]]


def _payment_cloudevent(event_id: str) -> CloudEvent:
    attributes = {
        "id": event_id,
        "source": "/tests/smoke",
        "type": "dev.rtinfer.payment.authorized.v1",
        "subject": "card-42",
        "partitionkey": "card-42",
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, {"payment_id": event_id, "card_id": "card-42", "amount": 12.5})


async def test_a_binary_cloudevent_survives_the_broker(kafka: KafkaEndpoint, unique_name: str) -> None:
    sent = _payment_cloudevent("evt-a-1")
    record = to_binary(sent)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        unique_name,
        bootstrap_servers=kafka.bootstrap,
        group_id=unique_name,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    try:
        key = record.key.encode() if isinstance(record.key, str) else record.key
        metadata = await producer.send_and_wait(
            unique_name, record.value, key=key, headers=list(record.headers.items())
        )
        assert metadata.offset >= 0
    finally:
        await producer.stop()
    await consumer.start()
    try:
        received = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()

    headers = dict(received.headers)
    assert headers["ce_type"] == b"dev.rtinfer.payment.authorized.v1"
    assert headers["ce_specversion"] == b"1.0"
    assert received.key == b"card-42"
    decoded = from_binary(KafkaMessage(headers=headers, key=received.key.decode(), value=received.value))
    assert decoded["id"] == "evt-a-1"
    assert decoded["subject"] == "card-42"
    assert decoded.data == sent.data


async def _subscriber_receives(
    broker: KafkaBroker, topic: str, send: SendFn, run: Callable[[KafkaBroker], Any]
) -> None:
    """Behaviour shared by the real broker and the in-memory one (`run` starts either)."""
    seen: asyncio.Queue[tuple[bytes | None, bytes, dict[str, str]]] = asyncio.Queue()

    @broker.subscriber(topic, group_id=f"{topic}-g", auto_offset_reset="earliest")
    async def on_payment(message: FastStreamKafkaMessage) -> None:
        await seen.put((message.raw_message.key, message.body, dict(message.headers)))

    async with run(broker):
        await send(topic, b"card-7", b'{"amount": 3.5}', [("ce_id", b"evt-b-1")])
        key, body, headers = await asyncio.wait_for(seen.get(), timeout=30)
    assert key == b"card-7"
    assert body == b'{"amount": 3.5}'
    assert headers["ce_id"] == "evt-b-1"


class _Running:
    """Starts a real broker (and its subscribers) for the duration of a block."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def __aenter__(self) -> KafkaBroker:
        await self.broker.start()
        return self.broker

    async def __aexit__(self, *exc: object) -> None:
        await self.broker.stop()


async def test_b_faststream_subscriber_real_broker(kafka: KafkaEndpoint, unique_name: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
        finally:
            await producer.stop()

    await _subscriber_receives(KafkaBroker(kafka.bootstrap), unique_name, send, _Running)


@pytest.mark.unit
async def test_b_faststream_subscriber_in_memory(unique_name: str) -> None:
    broker = KafkaBroker("in-memory:9092")

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        await broker.publish(value, topic, key=key, headers={k: v.decode() for k, v in headers})

    await _subscriber_receives(broker, unique_name, send, TestKafkaBroker)
