"""Kafka pull ingress: a FastStream batch subscriber with an explicit (manual) ack policy.

A batch is acked (offsets committed) only after its predictions and dead letters are
acknowledged by Kafka. When a dependency stays down, the consumer waits (heartbeats go on)
and then seeks back, so nothing is lost and nothing spins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka.abc import ConsumerRebalanceListener
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from events import Decoded, DecodeFailure, Event, KafkaOrigin, ReasonCode, decode_kafka_batch
from services.adapters.kafka.failures import BatchFailures
from services.adapters.kafka.publish import TransactionalPublisher
from services.adapters.kafka.records import SourceRecord, source_records
from services.adapters.kafka.subscriber import batch_subscriber
from services.core.errors import DependencyError
from services.core.scoring.pipeline import ScoringItem
from services.scoring.runtime import DependencyDown, RejectedInput, ScoringRuntime
from services.scoring.settings import ScoringSettings

log = logging.getLogger("rtinfer.scoring.kafka")


class KafkaIngress:
    """Registers the payments subscriber on `broker` (at construction, so the AsyncAPI document
    sees it); batches reach a runtime only between start(runtime) and stop()."""

    def __init__(
        self,
        settings: ScoringSettings,
        broker: KafkaBroker,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.lag: dict[tuple[tuple[str, str], ...], float] = {}
        self._runtime: ScoringRuntime | None = None
        self._transactions: TransactionalPublisher | None = None
        self._stopping = False
        self._in_flight = asyncio.Lock()
        self._clock = clock
        self.failures = BatchFailures(stuck_after_s=settings.stuck_after_s, clock=clock)
        # Records aiokafka itself cannot parse are dead-lettered by origin and skipped.
        self.subscriber, self.unreadable = batch_subscriber(
            broker,
            [settings.topics.payments],
            self._on_batch,
            self._dead_letter_unreadable,
            group_id=settings.group_id,
            max_records=settings.max_records * settings.batches_in_flight,
            batch_timeout_ms=settings.batch_timeout_ms,
            listener=_ForgetRevoked(self.lag),
            title="scoring-payments",
            description="payment CloudEvents in; predictions, explanations and dead letters out",
            clock=clock,
        )

    def start(self, runtime: ScoringRuntime, transactions: TransactionalPublisher | None = None) -> None:
        """Hand every batch to `runtime` from now on (call before the broker starts consuming).

        Args:
            transactions: exactly-once: each batch's outputs and offsets go out in one
                transaction through it, instead of being published then acked.
        """
        self._runtime = runtime
        self._transactions = transactions
        self._stopping = False

    async def stop(self) -> None:
        """Leave new batches uncommitted; return once the batch in flight finished and committed."""
        self._stopping = True
        async with self._in_flight:
            pass

    async def _on_batch(self, message: KafkaMessage) -> None:
        runtime = self._runtime
        if self._stopping or runtime is None:
            await message.nack()  # not ours to process any more: leave it uncommitted
            return
        async with self._in_flight:
            await self._process(message, runtime)

    async def _process(self, message: KafkaMessage, runtime: ScoringRuntime) -> None:
        records = source_records(message.raw_message)
        try:
            if self._transactions is None:
                await runtime.handle(*self._decoded(records))
            else:
                await self._handle_in_transaction(runtime, self._transactions, records)
        except DependencyDown as error:
            # Pause: hold the batch (the consumer keeps heartbeating), then read it again.
            log.warning("dependency down, pausing %.1fs before redelivery: %s", error.retry_after_s, error)
            self.failures.failed(error)
            await asyncio.sleep(error.retry_after_s)
            await message.nack()
            return
        except Exception as error:
            # Nothing foreseen: never commit past it. Back off, read it again, fail readiness
            # if it keeps failing (a poison item is isolated by the runtime, so this is a bug).
            pause_s = self.failures.failed(error)
            runtime.metrics.batch_failures.add(1)
            log.exception("batch of %d failed; not committed, read again in %.1fs", len(records), pause_s)
            await asyncio.sleep(pause_s)
            await message.nack()
            return
        self.failures.succeeded()
        if self._transactions is None:
            await message.ack()  # (exactly-once: the offsets were committed in the transaction)
        self._record_lag(message, records)

    async def _handle_in_transaction(
        self, runtime: ScoringRuntime, transactions: TransactionalPublisher, records: list[SourceRecord]
    ) -> None:
        outputs: dict[str, list[Event[Any]]] = {}

        async def collect(topic: str, events: Sequence[Event[Any]]) -> None:
            outputs.setdefault(topic, []).extend(events)

        await runtime.handle(*self._decoded(records), publish=collect)
        offsets: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            offsets[key] = max(offsets.get(key, 0), record.offset + 1)
        try:
            await transactions.commit_batch(outputs, offsets, self.settings.group_id)
        except DependencyError as error:
            raise DependencyDown(str(error), 2.0) from error

    def _decoded(self, records: list[SourceRecord]) -> tuple[list[ScoringItem], list[RejectedInput]]:
        """The batch through the compiled batch decoder (same verdicts as decode_kafka, held to it
        by a corpus test; anything it cannot decide with certainty goes through decode_kafka)."""
        received = self._clock()
        results = decode_kafka_batch(
            [(record.key, record.value, record.headers) for record in records],
            max_bytes=self.settings.max_event_bytes,
            received_at=received,
        )
        items, rejected = [], []
        for record, result in zip(records, results, strict=True):
            origin = KafkaOrigin(topic=record.topic, partition=record.partition, offset=record.offset)
            if isinstance(result, Decoded):
                items.append(ScoringItem(result.event, origin, received))
            else:
                rejected.append(RejectedInput(result, origin))
        return items, rejected

    async def _dead_letter_unreadable(self, topic: str, partition: int, offset: int, error_text: str) -> None:
        runtime = self._runtime
        if self._stopping or runtime is None:
            raise RuntimeError("not consuming")  # the guard pauses the partition and asks again later
        failure = DecodeFailure(
            reason=ReasonCode.UNREADABLE_RECORD,
            message=f"the Kafka client could not parse this record: {error_text}",
            field=None,
            value=b"",
            headers=(),
        )
        origin = KafkaOrigin(topic=topic, partition=partition, offset=offset)
        async with self._in_flight:
            await runtime.handle([], [RejectedInput(failure, origin)])

    def _record_lag(self, message: Any, records: list[Any]) -> None:
        consumer = getattr(message, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        last: dict[tuple[str, int], int] = {}
        for record in records:
            last[(record.topic, record.partition)] = max(
                record.offset, last.get((record.topic, record.partition), -1)
            )
        from aiokafka import TopicPartition

        for (topic, partition), offset in last.items():
            highwater = consumer.highwater(TopicPartition(topic, partition))
            if highwater is not None:
                self.lag[_lag_key(topic, partition)] = float(max(highwater - offset - 1, 0))


class _ForgetRevoked(ConsumerRebalanceListener):  # type: ignore[misc]
    """Drops the lag of partitions this consumer no longer owns (another instance reports them)."""

    def __init__(self, lag: dict[tuple[tuple[str, str], ...], float]) -> None:
        self._lag = lag

    async def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked: %s", _names(revoked))
        for partition in revoked:
            self._lag.pop(_lag_key(partition.topic, partition.partition), None)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("partitions assigned: %s", _names(assigned))


def _names(partitions: Any) -> str:
    return ", ".join(sorted(f"{p.topic}[{p.partition}]" for p in partitions)) or "none"


def _lag_key(topic: str, partition: int) -> tuple[tuple[str, str], ...]:
    return (("messaging.destination.name", topic), ("messaging.destination.partition.id", str(partition)))
