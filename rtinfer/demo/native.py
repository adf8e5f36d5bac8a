"""`rtinfer demo --stack native`: the same demo against the servers of `rtinfer stack up`.

Real Kafka (topics unique to the run), Feast on Redis, the KServe model server in a child
process, Weaviate; the scoring service and the feature writer run in this process on real
brokers, as two consumer groups of the payments topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import redis.asyncio as aioredis
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from events import Decoded, Event, decode_kafka
from rtinfer.demo import prepare
from rtinfer.demo.stream import (
    REPLAY_BATCH,
    SAMPLED_EXPLANATIONS,
    BatchTiming,
    ReplayClock,
    StreamResult,
    recent_facts,
    replay_batches,
)
from rtinfer.model.launcher import running_model_server
from rtinfer.producer.payments import payment_events
from services.adapters.feast.settings import FeastSettings
from services.adapters.feast.store import FeastPusher
from services.adapters.kafka.admin import TopicTail, create_topics, delete_topics_with_prefix, read_topic
from services.adapters.kafka.publish import AiokafkaPublisher
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve.client import KServeClientSettings
from services.adapters.vectors.settings import VectorSettings
from services.core.waiting import wait_for_count
from services.features.app import FeatureWriterApp
from services.features.settings import FeatureWriterSettings
from services.features.state import RedisCardState
from services.fraud.feast_repo import CARD_ROLLING_PUSH, apply_definitions
from services.model.artifact import ModelArtifact
from services.scoring.app import ScoringApp
from services.scoring.settings import ScoringSettings, Topics


def native_settings(
    work: Path, project: str = "rtinfer_demo_native", collection: str = "DemoCases"
) -> tuple[FeastSettings, VectorSettings, KafkaSettings]:
    redis_url = os.environ.get("RTINFER_REDIS_URL", "redis://127.0.0.1:6379/0")
    feast = FeastSettings(
        online_store="redis",
        redis_url=redis_url,
        project=project,
        repo_dir=work / "feast-native",
        data_dir=work / "features-native",
    )
    return feast, VectorSettings(backend="weaviate", collection=collection), KafkaSettings()


async def stream_native(
    stream: pd.DataFrame,
    history: pd.DataFrame,
    frame: pd.DataFrame | None,
    work: Path,
    artifact: ModelArtifact,
    console: Console,
    *,
    project: str = "rtinfer_demo_native",
    collection: str = "DemoCases",
) -> StreamResult:
    feast, vectors, kafka = native_settings(work, project, collection)
    prepare.prepare_features(history, feast, console)
    await prepare.prepare_vectors(history, frame, feast, artifact, vectors, console, force=True)
    run = f"demo-{uuid.uuid4().hex[:6]}"
    writer_topic = f"{run}-payments-for-features"  # the writer's own copy, so the replay orders the two
    topics = Topics(
        payments=f"{run}-payments",
        predictions=f"{run}-predictions",
        explanations=f"{run}-explanations",
        dlq=f"{run}-dlq",
    )
    await create_topics(
        kafka,
        [
            topics.payments,
            writer_topic,
            topics.predictions,
            topics.explanations,
            topics.dlq,
        ],
    )
    try:
        with running_model_server(work / "model") as server:
            console.print(f"[green]model server[/]: {server.rest_url} (pid {server.pid})")
            scoring = ScoringSettings(
                kafka=kafka,
                feast=feast,
                vectors=vectors,
                topics=topics,
                model_dir=work / "model",
                model=KServeClientSettings(target=server.rest_url, timeout_s=5.0),
                group_id=f"{run}-scoring",
                http_port=0,
                explain_sample_rate=SAMPLED_EXPLANATIONS,
            )
            writer = FeatureWriterSettings(
                kafka=kafka,
                feast=feast,
                payments_topic=writer_topic,
                dlq_topic=f"{run}-features-dlq",
                group_id=f"{run}-features",
                state_prefix=f"rtinfer:{run}",
            )
            return await _run(stream, history, scoring, writer, kafka)
    finally:
        await delete_topics_with_prefix(kafka, run)


class CountingPusher:
    """The writer's Feast pusher, counting the rows it has made visible online."""

    def __init__(self, inner: FeastPusher) -> None:
        self._inner = inner
        self.rows = 0
        self._pushed = asyncio.Event()

    async def push(self, rows: pd.DataFrame) -> None:
        await self._inner.push(rows)
        self.rows += len(rows)
        self._pushed.set()

    async def wait_for(self, count: int, timeout_s: float) -> None:
        await wait_for_count(lambda: self.rows, self._pushed, count, timeout_s, "feature writer rows pushed")


async def _run(
    stream: pd.DataFrame,
    history: pd.DataFrame,
    scoring: ScoringSettings,
    writer: FeatureWriterSettings,
    kafka: KafkaSettings,
) -> StreamResult:
    """A lock-step replay, like the embedded one: each replay batch (never two payments of one
    card) is scored first, then counted by the feature writer, so every payment is scored with
    its card's previous payment counted and none later. Produced all at once instead, the writer
    (about 10,000 events/s) ran far ahead of scoring and payments were scored with features from
    their own future."""
    clock = ReplayClock()  # outputs are stamped with the replayed time, as in the embedded demo
    service = ScoringApp(scoring, ingress="kafka", clock=clock)
    pusher = CountingPusher(FeastPusher(apply_definitions(writer.feast), CARD_ROLLING_PUSH))
    redis_client = aioredis.from_url(writer.state_redis_url)
    state = RedisCardState(redis_client, writer.state_prefix, writer.late_tolerance_s)
    await state.add(recent_facts(history))  # as the embedded demo seeds its in-memory state
    writer_app = FeatureWriterApp(writer, pusher=pusher, state=state)
    publisher = AiokafkaPublisher(kafka, "rtinfer-demo-producer", linger_ms=1)
    predictions = TopicTail(kafka, scoring.topics.predictions)
    events = list(payment_events(stream, "/demo/acquirer"))
    bounds = replay_batches(stream["card_id"].tolist(), REPLAY_BATCH)
    await service.start()
    await publisher.start()
    await predictions.start()
    result = StreamResult()
    try:
        await writer_app.start()
        started = time.perf_counter()
        with Progress(TextColumn("streaming"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("stream", total=len(events))
            for start, end in bounds:
                clock.current = stream["timestamp"].iloc[end - 1].to_pydatetime()
                sent = time.perf_counter()
                await publisher.publish(scoring.topics.payments, events[start:end])
                await predictions.wait_for(end, timeout_s=120)
                result.batches.append(BatchTiming(end - start, time.perf_counter() - sent))
                await publisher.publish(writer.payments_topic, events[start:end])
                await pusher.wait_for(end, timeout_s=120)
                bar.update(task, completed=end)
        result.seconds = time.perf_counter() - started
        await service.runtime.explanations.drain(60)
        result.predictions = _decode(predictions.records)
        result.explanations = _decode(
            await read_topic(
                kafka, scoring.topics.explanations, sum(p.data.explained for p in result.predictions), 30
            )
        )
        result.dead_letters = _decode(await read_topic(kafka, scoring.topics.dlq, 0, 2))
        counters = service.runtime.explanations.counters
        result.explain_counters = {
            "produced": counters.produced,
            "delayed": counters.delayed,
            "dropped": counters.dropped,
        }
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(writer_app.stop(), 30)
        await predictions.stop()
        await publisher.stop()
        await service.stop()
        await redis_client.aclose()  # type: ignore[attr-defined]
    return result


def _decode(records: list[Any]) -> list[Event[Any]]:
    events = []
    for record in records:
        result = decode_kafka(None, record.value, list(record.headers.items()))
        if isinstance(result, Decoded):
            events.append(result.event)
    return events
