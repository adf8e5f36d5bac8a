"""The feature writer as a FastStream app: a batch consumer on the payments topic.

Offsets are committed (AckPolicy.MANUAL, ack after success) only once the batch's rows are
in the online store and its dead letters are acknowledged; on a failure past the retry
budget the batch is nacked (the consumer seeks back) and read again.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.adapters.feast.store import FeastPusher
from services.adapters.kafka.broker import make_broker
from services.adapters.kafka.publish import publish_events
from services.adapters.kafka.records import keep_raw, source_records
from services.adapters.telemetry import setup_metrics
from services.core.errors import DependencyError
from services.core.ports import Pusher, RollingState
from services.features.settings import FeatureWriterSettings
from services.features.state import PaymentFact, RedisCardState
from services.features.writer import FeatureWriter
from services.fraud.feast_repo import CARD_ROLLING_PUSH, apply_definitions

log = logging.getLogger("rtinfer.features")


def build_app(
    settings: FeatureWriterSettings,
    broker: KafkaBroker | None = None,
    *,
    pusher: Pusher | None = None,
    redis_client: aioredis.Redis | None = None,
    state: RollingState[PaymentFact] | None = None,
) -> tuple[FastStream, KafkaBroker]:
    """The app and its broker. Collaborators may be injected (tests); else made at start-up."""
    broker = broker or make_broker(settings.kafka, "features")
    parts: dict[str, Any] = {}
    meter = setup_metrics("rtinfer-features", settings.metrics_port)
    lag = meter.create_histogram(
        "rtinfer.features.lag", unit="s", description="event time to online visibility"
    )
    consumed = meter.create_counter("messaging.client.consumed.messages", unit="{message}")
    dead = meter.create_counter("rtinfer.features.dead_lettered", unit="{message}")

    @asynccontextmanager
    async def lifespan() -> Any:
        client = redis_client or aioredis.from_url(settings.state_redis_url) if state is None else None
        push = pusher or FeastPusher(apply_definitions(settings.feast), CARD_ROLLING_PUSH)
        card_state = state or RedisCardState(client, settings.state_prefix, settings.late_tolerance_s)  # type: ignore[arg-type]
        parts["writer"] = FeatureWriter(
            card_state,
            push,
            lambda letters: publish_events(broker, settings.dlq_topic, letters),
            source=settings.source,
            max_event_bytes=settings.max_event_bytes,
            retry_budget_s=settings.retry_budget_s,
            retry_initial_s=settings.retry_initial_s,
            retry_max_s=settings.retry_max_s,
        )
        try:
            yield
        finally:
            if client is not None and redis_client is None:
                await client.aclose()  # type: ignore[attr-defined]

    @broker.subscriber(
        settings.payments_topic,
        batch=True,
        group_id=settings.group_id,
        max_records=settings.max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=keep_raw,
        title="features-payments",
        description="payments in, rolling card features out to the Feast online store",
    )
    async def on_payments(message: KafkaMessage) -> None:
        records = source_records(message.raw_message)
        try:
            report = await parts["writer"].process(records)
        except DependencyError as error:
            log.warning("batch of %d not stored, will be read again: %s", len(records), error)
            await message.nack()
            return
        await message.ack()
        consumed.add(report.consumed, {"messaging.destination.name": settings.payments_topic})
        if report.dead_lettered:
            dead.add(report.dead_lettered)
        for seconds in report.feature_lag_s:
            lag.record(seconds)

    return FastStream(broker, lifespan=lifespan), broker
