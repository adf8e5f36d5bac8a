"""Publishing CloudEvents through a FastStream Kafka broker (real or in-memory)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from events import Event, Mode, encode_kafka


async def publish_events(
    broker: KafkaBroker, topic: str, events: Sequence[Event[Any]], mode: Mode = Mode.BINARY
) -> None:
    """Send all events and wait until the broker acknowledged every one (acks per producer)."""
    sends = []
    for event in events:
        record = encode_kafka(event, mode)
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers}
        sends.append(broker.publish(record.value, topic, key=record.key, headers=headers))
    await asyncio.gather(*sends)
