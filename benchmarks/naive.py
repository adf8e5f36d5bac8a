"""The naive pipeline: one event at a time, every call awaited in turn, same SDKs and adapters.

fetch one record -> decode -> Feast read (one row) -> model predict (one row) -> vector
search (one row) -> prediction event -> send_and_wait -> commit. It builds the same
prediction payload as rtinfer (features used, neighbours, per-stage latency), but no
explanations, spans or metrics.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks.environment import BenchEnv
from benchmarks.latency import StageLog
from benchmarks.runners import TopicSet, consumer_for, producer_for
from events import (
    Decoded,
    Event,
    KafkaRecord,
    Neighbour,
    Prediction,
    decode_kafka,
    encode_kafka,
    prediction_event,
)
from services.adapters.feast.store import FeastOnlineFeatures, open_store
from services.adapters.kserve.client import KServeModelClient
from services.adapters.kserve.client import Protocol as ModelProtocol
from services.adapters.vectors.factory import make_index
from services.core.ports import Embedder, ModelInfo, VectorIndexPort
from services.core.ports import Neighbour as FoundNeighbour
from services.core.scoring.enrich import EnrichedRow, enrich_row
from services.core.scoring.policy import ScoringPolicy
from services.fraud.request import payment_request_features


class NaiveRunner:
    name = variant = "naive"
    processes: int | None = None
    settle_before_backlog = False
    link_header = "ce_causationid"

    def __init__(self, env: BenchEnv, protocol: ModelProtocol) -> None:
        self._env = env
        self._protocol: ModelProtocol = protocol
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.stages = StageLog()

    async def start(self, topics: TopicSet) -> None:
        env = self._env
        settings = env.scoring_settings(topics.prefix, self._protocol, 1, 1)
        model = KServeModelClient.from_settings(settings.model)
        info = await model.info()
        scaler = env.artifact.metadata.scaler
        thresholds = env.artifact.metadata.thresholds
        scorer = _NaiveScorer(
            settings.policy(thresholds.review, thresholds.decline),
            info,
            FeastOnlineFeatures(open_store(env.feast), env.feast.feature_service),
            model,
            make_index(env.vectors),
            scaler.embed,
        )
        consumer = consumer_for(env.kafka, topics, max_poll_records=1)
        producer = producer_for(env.kafka)
        await consumer.start()
        await producer.start()
        self._stopping = False
        self._task = asyncio.create_task(self._loop(consumer, producer, scorer, topics.predictions))

    async def _loop(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, scorer: _NaiveScorer, output: str
    ) -> None:
        try:
            while not self._stopping:
                fetched = await consumer.getmany(timeout_ms=200, max_records=1)
                if not fetched:
                    continue  # idle: look at the stop flag again
                [[record]] = fetched.values()
                started = time.perf_counter()
                decoded = decode_kafka(record.key, record.value, list(record.headers))
                stage_ms: dict[str, float] = {}
                mark = started
                if isinstance(decoded, Decoded):
                    out = await scorer.score(decoded.event, stage_ms)
                    mark = time.perf_counter()
                    await producer.send_and_wait(output, out.value, key=out.key, headers=out.headers)
                    mark = _lap(stage_ms, "send", mark)
                await consumer.commit()
                _lap(stage_ms, "commit", mark)
                stage_ms["total"] = (time.perf_counter() - started) * 1000.0
                self.stages.add(stage_ms)
        finally:
            await consumer.stop()
            await producer.stop()
            await scorer.close()

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await self._task


@dataclass(frozen=True)
class _NaiveScorer:
    policy: ScoringPolicy
    info: ModelInfo
    features: FeastOnlineFeatures
    model: KServeModelClient
    index: VectorIndexPort
    embed: Embedder

    async def score(self, event: Event[Any], stage_ms: dict[str, float]) -> KafkaRecord:
        """The prediction record; stage_ms gets enrich, model, vectors and decide (build + encode)."""
        policy, payment = self.policy, event.data
        started = time.perf_counter()
        entity = {join_key: str(getattr(payment, name)) for name, join_key in policy.entity_keys}
        [stored] = await self.features.read([entity])
        row = enrich_row(
            payment,
            stored,
            self.info.feature_names,
            payment_request_features,
            policy.freshness,
            at=event.time,
        )
        matrix = np.asarray([row.vector], dtype=np.float32)
        mark = _lap(stage_ms, "enrich", started)
        score = float((await self.model.predict(matrix))[0])
        mark = _lap(stage_ms, "model", mark)
        # The same neighbours policy as the rtinfer variant: search only where it is wanted.
        decision = policy.decision.decide(score)
        found: list[FoundNeighbour] = []
        if policy.neighbours_for.wants(decision, policy.explanation.reason(event.id, score, decision)):
            [found] = await self.index.search(self.embed(matrix), policy.neighbours_k)
        mark = _lap(stage_ms, "vectors", mark)
        record = encode_kafka(self._prediction(event, row, score, found, stage_ms))
        _lap(stage_ms, "decide", mark)
        return record

    def _prediction(
        self,
        event: Event[Any],
        row: EnrichedRow,
        score: float,
        found: list[FoundNeighbour],
        stage_ms: dict[str, float],
    ) -> Event[Prediction]:
        policy, payment = self.policy, event.data
        decision = policy.decision.decide(score)
        explain = policy.explanation.reason(event.id, score, decision)
        prediction = Prediction(
            input_id=event.id,
            input_source=event.source,
            entity={join_key: str(getattr(payment, name)) for name, join_key in policy.entity_keys},
            score=min(max(score, 0.0), 1.0),
            decision=decision,
            threshold=policy.decision.review_at,
            model_name=self.info.name,
            model_version=self.info.version,
            features=row.uses,
            neighbours=[
                Neighbour(id=n.id, distance=float(n.distance), label=n.label if n.label in (0, 1) else None)  # type: ignore[arg-type]
                for n in found
            ],
            degraded=[],
            latency_ms={name: round(ms, 3) for name, ms in stage_ms.items()},
            segment={name: str(getattr(payment, name)) for name in policy.segment_fields},
            explained=explain is not None,
        )
        return prediction_event(event, prediction, source=policy.source, time=datetime.now(UTC))

    async def close(self) -> None:
        await self.model.close()
        await self.index.close()


def _lap(stage_ms: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    stage_ms[stage] = (now - since) * 1000.0
    return now
