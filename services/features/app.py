"""The feature writer process: a batch consumer on the payments topic feeding the online store.

Offsets are committed (AckPolicy.MANUAL, ack after success) only once the batch's rows are
in the online store and its dead letters are acknowledged; on a failure past the retry
budget the batch is nacked (the consumer seeks back) and read again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import redis.asyncio as aioredis
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from events import KafkaOrigin, RawInput, ReasonCode, dead_letter_event
from services.adapters.feast.store import FeastPusher
from services.adapters.kafka.broker import make_broker
from services.adapters.kafka.failures import BatchFailures
from services.adapters.kafka.publish import publish_events
from services.adapters.kafka.records import source_records
from services.adapters.kafka.subscriber import batch_subscriber
from services.adapters.lifecycle import run_until_signal
from services.adapters.telemetry import setup_metrics
from services.core.errors import DependencyError
from services.core.ports import Pusher, RollingState
from services.features.settings import FeatureWriterSettings
from services.features.state import PaymentFact, RedisCardState
from services.features.writer import FeatureWriter
from services.fraud.feast_repo import CARD_ROLLING_PUSH, apply_definitions

log = logging.getLogger("rtinfer.features")


class FeatureWriterApp:
    """Owns the broker, the card state's Redis client, the Feast pusher and the writer.

    The subscriber is registered at construction (so the AsyncAPI document sees it); the Redis
    client and the pusher are made in start() and the client is closed in stop().

    Args:
        broker: the Kafka broker (tests pass one under TestKafkaBroker); default from settings.
        pusher: an injected pusher; default Feast's, on the repo applied at start-up.
        redis_client: an injected client for the card state (not closed by stop()).
        state: an injected card state (then no Redis client is used at all).
    """

    def __init__(
        self,
        settings: FeatureWriterSettings,
        broker: KafkaBroker | None = None,
        *,
        pusher: Pusher | None = None,
        redis_client: aioredis.Redis | None = None,
        state: RollingState[PaymentFact] | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker or make_broker(settings.kafka, "features")
        self._injected_pusher = pusher
        self._injected_client = redis_client
        self._injected_state = state
        self._owned_client: aioredis.Redis | None = None
        self._writer: FeatureWriter | None = None
        self.failures = BatchFailures()
        meter = setup_metrics("rtinfer-features", settings.metrics_port)
        self._lag = meter.create_histogram(
            "rtinfer.features.lag", unit="s", description="event time to online visibility"
        )
        self._consumed = meter.create_counter("messaging.client.consumed.messages", unit="{message}")
        self._dead = meter.create_counter("rtinfer.features.dead_lettered", unit="{message}")
        # Records aiokafka itself cannot parse are dead-lettered by origin and skipped.
        self.subscriber, self.unreadable = batch_subscriber(
            self.broker,
            [settings.payments_topic],
            self._on_payments,
            self._dead_letter_unreadable,
            group_id=settings.group_id,
            max_records=settings.max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
            title="features-payments",
            description="payments in, rolling card features out to the Feast online store",
        )

    async def start(self) -> None:
        """Make the state's client, the pusher and the writer, then consume."""
        settings = self.settings
        state = self._injected_state
        if state is None:
            client = self._injected_client
            if client is None:
                client = self._owned_client = aioredis.from_url(
                    settings.state_redis_url, socket_timeout=settings.call_timeout_s
                )
            state = RedisCardState(client, settings.state_prefix, settings.late_tolerance_s)
        pusher = self._injected_pusher or FeastPusher(apply_definitions(settings.feast), CARD_ROLLING_PUSH)
        self._writer = FeatureWriter(
            state,
            pusher,
            lambda letters: publish_events(self.broker, settings.dlq_topic, letters),
            source=settings.source,
            max_event_bytes=settings.max_event_bytes,
            retry_budget_s=settings.retry_budget_s,
            retry_initial_s=settings.retry_initial_s,
            retry_max_s=settings.retry_max_s,
            max_future_s=settings.max_future_s,
            call_timeout_s=settings.call_timeout_s,
        )
        await self.broker.start()

    async def stop(self) -> None:
        """Stop consuming (the batch in flight finishes), then close the client made at start."""
        await self.broker.stop()
        client, self._owned_client = self._owned_client, None
        if client is not None:
            await client.aclose()  # type: ignore[attr-defined]

    async def run_until_signal(self) -> None:
        """Start, consume until SIGTERM or SIGINT, then stop."""
        await run_until_signal(self.start, self.stop)

    async def _dead_letter_unreadable(self, topic: str, partition: int, offset: int, error_text: str) -> None:
        letter = dead_letter_event(
            RawInput(value=b""),
            origin=KafkaOrigin(topic=topic, partition=partition, offset=offset),
            stage="decode",
            first_seen=datetime.now(UTC),
            source=self.settings.source,
            reason=ReasonCode.UNREADABLE_RECORD,
            message=f"the Kafka client could not parse this record: {error_text}",
        )
        await publish_events(self.broker, self.settings.dlq_topic, [letter])  # raises: paused, asked again
        self._dead.add(1)

    async def _on_payments(self, message: KafkaMessage) -> None:
        assert self._writer is not None, "batches arrive only after start()"
        records = source_records(message.raw_message)
        try:
            report = await self._writer.process(records)
        except DependencyError as error:
            log.warning("batch of %d not stored, will be read again: %s", len(records), error)
            self.failures.failed(error)
            await message.nack()
            return
        except Exception as error:
            # Never commit past a batch that failed for a reason nobody foresaw; back off.
            pause_s = self.failures.failed(error)
            log.exception("batch of %d failed; not committed, read again in %.1fs", len(records), pause_s)
            await asyncio.sleep(pause_s)
            await message.nack()
            return
        self.failures.succeeded()
        await message.ack()
        self._consumed.add(report.consumed, {"messaging.destination.name": self.settings.payments_topic})
        if report.dead_lettered:
            self._dead.add(report.dead_lettered)
        for seconds in report.feature_lag_s:
            self._lag.record(seconds)
