"""The FastStream Kafka broker of a service: its producer acks=all and idempotent."""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker

from services.adapters.kafka.settings import DELIVERY_GUARANTEES, KafkaSettings


def make_broker(kafka: KafkaSettings, role: str, **options: Any) -> KafkaBroker:
    """Args:
    role: appended to the client id ("scoring", "features", "monitor").
    options: further KafkaBroker arguments (e.g. linger_ms).

    FastStream's per-message access lines ("Received", "Processed": two per micro-batch) are
    logged at DEBUG: at INFO they cost CPU on every batch and bury what matters.
    """
    options.setdefault("log_level", logging.DEBUG)
    return KafkaBroker(
        kafka.bootstrap,
        client_id=f"{kafka.client_id}-{role}",
        security=kafka.faststream_security(),
        **DELIVERY_GUARANTEES,
        **options,
    )
