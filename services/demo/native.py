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
from rich.console import Console

from events import Decoded, Event, decode_kafka
from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.admin import create_topics, delete_topics_with_prefix, read_topic
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve_client import KServeClientSettings
from services.demo import prepare
from services.demo.stream import SAMPLED_EXPLANATIONS, BatchTiming, StreamResult
from services.features.app import build_app
from services.features.settings import FeatureWriterSettings
from services.model.artifact import ModelArtifact
from services.model.launcher import running_model_server
from services.producer.kafka import produce_records
from services.producer.payments import payment_records
from services.scoring.service import ScoringService
from services.scoring.settings import ScoringSettings, Topics
from services.vectors.settings import VectorSettings


def native_settings(work: Path) -> tuple[FeastSettings, VectorSettings, KafkaSettings]:
    redis_url = os.environ.get("RTINFER_REDIS_URL", "redis://127.0.0.1:6379/0")
    feast = FeastSettings(
        online_store="redis",
        redis_url=redis_url,
        project="rtinfer_demo_native",
        repo_dir=work / "feast-native",
        data_dir=work / "features-native",
    )
    return feast, VectorSettings(backend="weaviate", collection="DemoCases"), KafkaSettings()


async def stream_native(
    stream: pd.DataFrame,
    history: pd.DataFrame,
    frame: pd.DataFrame | None,
    work: Path,
    artifact: ModelArtifact,
    console: Console,
) -> StreamResult:
    feast, vectors, kafka = native_settings(work)
    prepare.prepare_features(history, feast, console)
    await prepare.prepare_vectors(history, frame, feast, artifact, vectors, console, force=True)
    run = f"demo-{uuid.uuid4().hex[:6]}"
    topics = Topics(
        payments=f"{run}-payments",
        predictions=f"{run}-predictions",
        explanations=f"{run}-explanations",
        dlq=f"{run}-dlq",
    )
    await create_topics(kafka, [topics.payments, topics.predictions, topics.explanations, topics.dlq])
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
                payments_topic=topics.payments,
                dlq_topic=f"{run}-features-dlq",
                group_id=f"{run}-features",
                state_prefix=f"rtinfer:{run}",
            )
            return await _run(stream, scoring, writer, kafka, console)
    finally:
        await delete_topics_with_prefix(kafka, run)


async def _run(
    stream: pd.DataFrame,
    scoring: ScoringSettings,
    writer: FeatureWriterSettings,
    kafka: KafkaSettings,
    console: Console,
) -> StreamResult:
    service = ScoringService(scoring, ingress="kafka")
    app, _ = build_app(writer)
    await service.start()
    writer_task = asyncio.create_task(app.run())
    result = StreamResult()
    try:
        started = time.perf_counter()
        with console.status(f"producing {len(stream):,} payments and waiting for their predictions ..."):
            await produce_records(
                payment_records(stream, "/demo/acquirer"), kafka=kafka, topic=scoring.topics.payments
            )
            records = await read_topic(kafka, scoring.topics.predictions, len(stream), timeout_s=600)
        result.seconds = time.perf_counter() - started
        await service.components.runtime.explanations.drain(60)  # type: ignore[union-attr]
        result.predictions = _decode(records)
        result.explanations = _decode(
            await read_topic(
                kafka, scoring.topics.explanations, sum(p.data.explained for p in result.predictions), 30
            )
        )
        result.dead_letters = _decode(await read_topic(kafka, scoring.topics.dlq, 0, 2))
        inputs = await read_topic(kafka, scoring.topics.payments, len(stream), timeout_s=60)
        sent_ms = {r.headers.get("ce_id", b"").decode(): r.timestamp_ms for r in inputs}
        # Event -> prediction latency from the records' timestamps, one "batch" per event.
        result.batches = [
            BatchTiming(
                1,
                max(
                    r.timestamp_ms
                    - sent_ms.get(r.headers.get("ce_causationid", b"").decode(), r.timestamp_ms),
                    0,
                )
                / 1000,
            )
            for r in records
        ]
        counters = service.components.runtime.explanations.counters  # type: ignore[union-attr]
        result.explain_counters = {
            "produced": counters.produced,
            "delayed": counters.delayed,
            "dropped": counters.dropped,
        }
    finally:
        app.exit()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(writer_task, 30)
        await service.stop()
    return result


def _decode(records: list[Any]) -> list[Event[Any]]:
    events = []
    for record in records:
        result = decode_kafka(None, record.value, list(record.headers.items()))
        if isinstance(result, Decoded):
            events.append(result.event)
    return events
