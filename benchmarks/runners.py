"""The systems a pipeline benchmark drives: a raw echo, and rtinfer's scoring service.

Each consumes one input topic as a consumer group and writes one record per input to an
output topic; `link_header` names the output header that carries the input's ce_id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks.environment import BenchEnv
from benchmarks.latency import StageLog
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve.client import Protocol as ModelProtocol
from services.core.scoring.pipeline import BatchResult, ScoringItem
from services.scoring.app import ScoringApp
from services.scoring.runtime import HandleResult, RejectedInput, ScoringRuntime


@dataclass(frozen=True)
class TopicSet:
    """A phase's topics and consumer group, all starting with one unique prefix."""

    prefix: str

    @property
    def payments(self) -> str:
        return f"{self.prefix}-payments"

    @property
    def predictions(self) -> str:
        return f"{self.prefix}-predictions"

    @property
    def explanations(self) -> str:
        return f"{self.prefix}-explanations"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}-dlq"

    @property
    def group(self) -> str:
        return f"{self.prefix}-scoring"

    def all(self) -> list[str]:
        return [self.payments, self.predictions, self.explanations, self.dlq]


class Runner(Protocol):
    name: str  # unique in a run and topic-safe, e.g. "rtinfer-2p"
    variant: str  # what it runs: echo, naive, rtinfer, rtinfer-all
    processes: int | None  # scoring processes it starts; None: it runs in this process
    settle_before_backlog: bool  # start it on the empty backlog topics, then produce
    link_header: str
    stages: StageLog  # in-process stage timings, per event

    async def start(self, topics: TopicSet) -> None: ...

    async def stop(self) -> None: ...


def quiet_faststream() -> None:
    """FastStream's access log prints two INFO lines per batch to stdout: keep only warnings,
    as a service run at --log-level WARNING. (A filter, since FastStream resets the level.)"""
    logger = logging.getLogger("faststream.access.kafka")
    if _below_warning not in logger.filters:
        logger.addFilter(_below_warning)


def _below_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def consumer_for(kafka: KafkaSettings, topics: TopicSet, **options: object) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topics.payments,
        **kafka.aiokafka_kwargs(),
        group_id=topics.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **options,
    )


def producer_for(kafka: KafkaSettings) -> AIOKafkaProducer:
    # The scoring service's producer settings (services.adapters.kafka.broker.make_broker).
    return AIOKafkaProducer(**kafka.producer_kwargs(linger_ms=2))


class EchoRunner:
    """Raw aiokafka: fetch a batch, produce every value unchanged, await the acks, commit."""

    name = variant = "echo"
    processes: int | None = None
    settle_before_backlog = False
    link_header = "ce_id"  # headers are copied, so the output's ce_id is the input's

    def __init__(self, kafka: KafkaSettings, max_records: int, batch_timeout_ms: int) -> None:
        self._kafka = kafka
        self._max_records = max_records
        self._batch_timeout_ms = batch_timeout_ms
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.stages = StageLog()

    async def start(self, topics: TopicSet) -> None:
        consumer = consumer_for(self._kafka, topics)
        producer = producer_for(self._kafka)
        await consumer.start()
        await producer.start()
        self._stopping = False
        self._task = asyncio.create_task(self._loop(consumer, producer, topics.predictions))

    async def _loop(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, output: str) -> None:
        try:
            while not self._stopping:
                batches = await consumer.getmany(
                    timeout_ms=self._batch_timeout_ms, max_records=self._max_records
                )
                started = time.perf_counter()
                sends = [
                    await producer.send(output, record.value, key=record.key, headers=list(record.headers))
                    for records in batches.values()
                    for record in records
                ]
                if sends:
                    await asyncio.gather(*sends)
                    await consumer.commit()
                    self.stages.add({"batch": (time.perf_counter() - started) * 1000.0}, len(sends))
        finally:
            await consumer.stop()
            await producer.stop()

    async def stop(self) -> None:
        self._stopping = True  # the batch in flight finishes and commits
        if self._task is not None:
            await self._task


class ScoringRunner:
    """rtinfer's ScoringApp (Kafka ingress, micro-batches) on the phase's topics."""

    processes: int | None = None
    settle_before_backlog = False
    link_header = "ce_causationid"

    def __init__(
        self,
        env: BenchEnv,
        protocol: ModelProtocol,
        max_records: int,
        batch_timeout_ms: int,
        neighbours_for: str = "flagged",
        name: str = "rtinfer",
        in_flight: int = 1,
    ) -> None:
        self.name = self.variant = name
        self._in_flight = in_flight
        self._env = env
        self._protocol: ModelProtocol = protocol
        self._max_records = max_records
        self._batch_timeout_ms = batch_timeout_ms
        self._neighbours_for = neighbours_for
        self._service: ScoringApp | None = None
        self.stages = StageLog()

    async def start(self, topics: TopicSet) -> None:
        settings = self._env.scoring_settings(
            topics.prefix,
            self._protocol,
            self._max_records,
            self._batch_timeout_ms,
            self._neighbours_for,
            self._in_flight,
        )
        service = ScoringApp(settings, ingress="kafka")
        await service.start()
        self._service = service
        self._record_stages(service.runtime)

    def _record_stages(self, runtime: ScoringRuntime) -> None:
        """Wrap the runtime's batch calls to keep each batch's timings, decide and total included.

        (A prediction's latency_ms is stamped while the batch is being decided, so it carries
        enrich, model and vectors only.)
        """
        run_pipeline, handle = runtime.pipeline.run, runtime.handle

        async def timed_run(items: Sequence[ScoringItem]) -> BatchResult:
            result = await run_pipeline(items)
            self.stages.add(result.stage_ms, len(items))
            return result

        async def timed_handle(
            items: Sequence[ScoringItem], rejected: Sequence[RejectedInput]
        ) -> HandleResult:
            started = time.perf_counter()
            result = await handle(items, rejected)
            handled = {"handle": (time.perf_counter() - started) * 1000.0, "batch size": float(len(items))}
            self.stages.add(handled, len(items))
            return result

        setattr(runtime.pipeline, "run", timed_run)  # noqa: B010 - instance-level wrap, bench only
        setattr(runtime, "handle", timed_handle)  # noqa: B010

    async def stop(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.stop()  # finishes the batch in flight, drains explanations, commits
