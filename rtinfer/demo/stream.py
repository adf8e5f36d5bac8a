"""Streaming the demo's payments through the real scoring service and feature writer.

Embedded: FastStream's in-memory Kafka broker carries the events between the same services
that run in production; Feast on SQLite, the KServe model class in process, Milvus Lite.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from events import Decoded, Event, Mode, decode_kafka
from rtinfer.producer.payments import payment_records
from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.publish import MemoryPublisher
from services.adapters.kafka.records import keep_raw
from services.adapters.vectors.settings import VectorSettings
from services.core.ports import ModelPort
from services.features.app import FeatureWriterApp
from services.features.settings import FeatureWriterSettings
from services.features.state import InMemoryCardState, PaymentFact
from services.model.inprocess import InProcessModel
from services.scoring.app import ScoringApp
from services.scoring.settings import ScoringSettings

T = TypeVar("T")
# A uniform sample of predictions is explained besides the flagged ones: the monitor's
# attribution drift compares those with the training reference, which covers all rows.
SAMPLED_EXPLANATIONS = 0.2
REPLAY_BATCH = 50  # payments per replay batch at most (embedded and native)
MALFORMED = [b"{not json", b'{"payment_id": 7}', b"\xff\xfe\x00", b"[]"]


@dataclass
class BatchTiming:
    events: int
    seconds: float


@dataclass
class StreamResult:
    predictions: list[Event[Any]] = field(default_factory=list)
    explanations: list[Event[Any]] = field(default_factory=list)
    dead_letters: list[Event[Any]] = field(default_factory=list)
    batches: list[BatchTiming] = field(default_factory=list)
    seconds: float = 0.0
    explain_counters: dict[str, int] = field(default_factory=dict)
    writer_dead_letters: int = 0
    shadows: list[Event[Any]] = field(default_factory=list)

    def extend(self, later: StreamResult) -> None:
        """Append a later part of the same stream (the demo streams in parts around a retraining)."""
        self.predictions += later.predictions
        self.explanations += later.explanations
        self.dead_letters += later.dead_letters
        self.batches += later.batches
        self.seconds += later.seconds
        for name, count in later.explain_counters.items():
            self.explain_counters[name] = self.explain_counters.get(name, 0) + count
        self.writer_dead_letters += later.writer_dead_letters
        self.shadows += later.shadows


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run for a coroutine with a large result. On its way out, asyncio.run restores the
    SIGINT handler, and Python 3.11's signal module turns the old handler (a partial holding the
    main task) into the text of a ValueError: a full repr of the task, result included, which
    for a stream's 20,000 events took 8 s. Here the main task's result is None."""
    box: list[T] = []

    async def main() -> None:
        box.append(await coroutine)

    asyncio.run(main())
    return box[0]


def _collector(broker: KafkaBroker, topic: str, sink: list[Event[Any]]) -> None:
    @broker.subscriber(topic, decoder=keep_raw)
    async def collect(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        headers = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in (raw.headers or ())]
        key = raw.key if isinstance(raw.key, bytes | None) else str(raw.key).encode()
        result = decode_kafka(key, raw.value, headers)
        if isinstance(result, Decoded):
            sink.append(result.event)


def embedded_settings(
    feast: FeastSettings, vectors: VectorSettings, model_dir: Path
) -> tuple[ScoringSettings, FeatureWriterSettings]:
    """The embedded demo's scoring and feature writer settings."""
    scoring = ScoringSettings(
        feast=feast,
        vectors=vectors,
        model_dir=model_dir,
        http_port=0,
        max_records=250,
        on_stale="flag",
        explain_sample_rate=SAMPLED_EXPLANATIONS,
    )
    # The writer reads its own copy of the stream, so the demo can order the two consumers.
    writer = FeatureWriterSettings(feast=feast, payments_topic="demo.payments.for-features")
    return scoring, writer


def recent_facts(history: pd.DataFrame, days: float = 2.0) -> list[PaymentFact]:
    """The history's last `days` of payments, as the feature writer's card state holds them."""
    recent = history[history["timestamp"] >= history["timestamp"].max() - pd.Timedelta(days=days)]
    return [
        PaymentFact(
            row.card_id, row.payment_id, row.timestamp.timestamp(), float(row.amount), row.merchant_id
        )
        for row in recent.itertuples(index=False)
    ]


async def seeded_state(history: pd.DataFrame, days: float = 2.0) -> InMemoryCardState:
    """Card state as the writer would hold it after consuming the history's last days."""
    state = InMemoryCardState()
    await state.add(recent_facts(history, days))
    return state


def replay_batches(card_ids: Sequence[str], max_size: int) -> list[tuple[int, int]]:
    """[start, end) bounds of consecutive replay batches of at most `max_size` payments, a batch
    ending before a card it already holds: a replay compresses minutes of payments into one
    batch, where a live stream would have the writer count the first payment before the second."""
    bounds: list[tuple[int, int]] = []
    start, cards = 0, set[str]()
    for index, card in enumerate(card_ids):
        if card in cards or index - start >= max_size:
            bounds.append((start, index))
            start, cards = index, set()
        cards.add(card)
    if start < len(card_ids):
        bounds.append((start, len(card_ids)))
    return bounds


class ReplayClock:
    """The demo replays history: outputs are stamped with the time of the batch being replayed."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current


async def stream_embedded(
    stream: pd.DataFrame,
    scoring: ScoringSettings,
    writer: FeatureWriterSettings,
    model: InProcessModel,
    state: InMemoryCardState,
    *,
    clock: ReplayClock | None = None,
    batch_size: int = REPLAY_BATCH,
    malformed: int = 20,
    challengers: Mapping[str, ModelPort] | None = None,
) -> StreamResult:
    """Stream `stream` through the scoring service and the feature writer (in that order per batch).

    Args:
        challengers: models scored in the champion's shadow (each named in scoring.challengers).
    """
    broker = KafkaBroker("in-memory:9092")
    result = StreamResult()
    outputs = MemoryPublisher()  # outputs stay in process; inputs travel the in-memory broker
    clock = clock or ReplayClock()
    service = ScoringApp(
        scoring, broker=broker, model=model, publisher=outputs, clock=clock, challengers=challengers
    )
    writer_app = FeatureWriterApp(writer, broker, state=state)
    _collector(broker, writer.dlq_topic, result.dead_letters)  # the writer publishes via the broker
    # Structured mode: the in-memory batch publish carries one header set for all records.
    records = [r.value for r in payment_records(stream, "/demo/acquirer", Mode.STRUCTURED)]
    bounds = replay_batches(stream["card_id"].tolist(), batch_size)
    bad_batches = {round(i * (len(bounds) - 1) / max(malformed - 1, 1)) for i in range(malformed)}
    columns = [
        TextColumn("streaming"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
    ]
    async with TestKafkaBroker(broker), contextlib.AsyncExitStack() as running:
        await writer_app.start()
        running.push_async_callback(writer_app.stop)  # after the scoring app has stopped
        await service.start()
        try:
            started = time.perf_counter()
            with Progress(*columns) as progress:
                task = progress.add_task("stream", total=len(records), rate="")
                for number, (start, end) in enumerate(bounds):
                    batch = list(records[start:end])
                    if number in bad_batches:  # a few bad events, to show the DLQ
                        batch.insert(len(batch) // 2, MALFORMED[number % len(MALFORMED)])
                    sent = time.perf_counter()
                    clock.current = stream["timestamp"].iloc[end - 1].to_pydatetime()
                    headers = {"content-type": "application/cloudevents+json"}
                    # Scoring first, then the writer counts the batch. A batch never holds two
                    # payments of one card, so each payment is scored with its card's previous
                    # payment counted, as in training (and live, where the writer is ms behind).
                    await broker.publish_batch(*batch, topic=scoring.topics.payments, headers=headers)
                    await broker.publish_batch(*batch, topic=writer.payments_topic, headers=headers)
                    result.batches.append(BatchTiming(len(batch), time.perf_counter() - sent))
                    rate = end / (time.perf_counter() - started)
                    progress.update(task, completed=end, rate=f"{rate:,.0f} events/s")
            result.seconds = time.perf_counter() - started
            runtime = service.runtime
            await runtime.explanations.drain(60)
            counters = runtime.explanations.counters
            result.explain_counters = {
                "produced": counters.produced,
                "delayed": counters.delayed,
                "dropped": counters.dropped,
            }
            result.predictions = outputs.topics.get(scoring.topics.predictions, [])
            result.shadows = outputs.topics.get(scoring.topics.shadow_predictions, [])
            result.explanations = outputs.topics.get(scoring.topics.explanations, [])
            result.writer_dead_letters = len(result.dead_letters)
            result.dead_letters = outputs.topics.get(scoring.topics.dlq, [])
        finally:
            await service.stop()
    return result
