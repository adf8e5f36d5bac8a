"""A complete scoring environment for benchmarks, built from nothing on the running servers.

Generated payments -> Feast backfill, apply and materialize (Redis) -> point-in-time training
-> labelled cases in the vector index -> the KServe model server as a child process. Every
name (Feast project, collection) is unique per run, and removed again on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from feast import FeatureStore

from rtinfer.datagen import GeneratorConfig, generate
from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.launcher import RunningModelServer, running_model_server
from rtinfer.model.train import TrainingConfig, train_from_frame
from rtinfer.vectors.indexing import index_cases
from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve.client import KServeClientSettings, Protocol
from services.adapters.vectors.factory import make_index
from services.adapters.vectors.settings import Backend, VectorSettings
from services.core.scoring.policy import NeighboursFor
from services.fraud.cases import FRAUD_CASE_SCHEMA, cases_from_frame
from services.fraud.feast_repo import apply_definitions
from services.model.artifact import ModelArtifact
from services.scoring.settings import ScoringSettings, Topics

log = logging.getLogger("rtinfer.bench")


def generated_payments(seed: int = 7) -> pd.DataFrame:
    """About 12,000 payments of 360 cards over 20 days, the four fraud patterns planted."""
    return generate(GeneratorConfig(seed=seed, cards=360, merchants=80, days=20)).payments


def materialized_store(payments: pd.DataFrame, feast: FeastSettings) -> FeatureStore:
    """The fraud feature repo applied and materialized from a backfill of `payments`."""
    backfill(payments).write(feast.data_dir)
    store = apply_definitions(feast)
    with contextlib.redirect_stdout(io.StringIO()):  # Feast prints progress; keep the figures readable
        store.materialize(
            start_date=payments["timestamp"].min().to_pydatetime(),
            end_date=payments["timestamp"].max().to_pydatetime(),
        )
    return store


@dataclass(frozen=True)
class BenchEnv:
    name: str
    payments: pd.DataFrame  # the stream to score (ids are rewritten per phase)
    artifact: ModelArtifact
    model_dir: Path
    server: RunningModelServer
    feast: FeastSettings
    vectors: VectorSettings
    kafka: KafkaSettings

    def model_settings(self, protocol: Protocol) -> KServeClientSettings:
        target = self.server.rest_url if protocol == "rest" else self.server.grpc_target
        return KServeClientSettings(
            target=target, model_name="fraud", protocol=protocol, timeout_s=5.0, rest_url=self.server.rest_url
        )

    def scoring_settings(
        self,
        prefix: str,
        protocol: Protocol,
        max_records: int,
        batch_timeout_ms: int,
        neighbours_for: str = "flagged",
        batches_in_flight: int = 1,
    ) -> ScoringSettings:
        """Scoring settings whose topics and group start with `prefix`."""
        return ScoringSettings(
            kafka=self.kafka,
            feast=self.feast,
            model=self.model_settings(protocol),
            vectors=self.vectors,
            topics=Topics(
                payments=f"{prefix}-payments",
                predictions=f"{prefix}-predictions",
                explanations=f"{prefix}-explanations",
                dlq=f"{prefix}-dlq",
            ),
            model_dir=self.model_dir,
            group_id=f"{prefix}-scoring",
            max_records=max_records,
            batch_timeout_ms=batch_timeout_ms,
            neighbours_for=NeighboursFor(neighbours_for),
            batches_in_flight=batches_in_flight,
            http_port=0,
        )


@contextlib.contextmanager
def bench_env(
    work: Path, kafka: KafkaSettings, redis_url: str, backend: Backend, vectors: VectorSettings | None = None
) -> Iterator[BenchEnv]:
    """Build everything under `work`; the model server stops and the names are dropped on exit."""
    name = f"bench{uuid.uuid4().hex[:8]}"
    payments = generated_payments()
    feast = FeastSettings(
        online_store="redis",
        redis_url=redis_url,
        project=name,
        repo_dir=work / "feast",
        data_dir=work / "features",
    )
    log.info("feast: backfill, apply, materialize to redis")
    store = materialized_store(payments, feast)
    try:
        log.info("training the model (point-in-time features)")
        frame = training_frame(store, feast.feature_service, payments)
        result = train_from_frame(frame, TrainingConfig(seed=7, num_iterations=120))
        model_dir = result.artifact.save(work / "model")
        base = vectors or VectorSettings()
        scoped = base.model_copy(
            update={"backend": backend, "collection": f"Bench{name[5:]}", "milvus_path": work / "cases.db"}
        ).with_default_schema(FRAUD_CASE_SCHEMA)
        log.info("indexing %d cases in %s", len(frame), backend)
        asyncio.run(_index(scoped, frame, payments, result.artifact))
        try:
            with running_model_server(model_dir) as server:
                yield BenchEnv(name, payments, result.artifact, model_dir, server, feast, scoped, kafka)
        finally:
            asyncio.run(_drop(scoped))
    finally:
        try:
            store.teardown()  # the project's online tables
        except Exception as error:  # best effort: the run's figures matter more
            log.warning("feast teardown of %s failed: %s", name, error)


async def _index(
    settings: VectorSettings, frame: pd.DataFrame, payments: pd.DataFrame, artifact: ModelArtifact
) -> None:
    by_id = payments.set_index("payment_id").loc[frame["payment_id"]]
    labelled = frame.assign(
        case_id=frame["payment_id"],
        label=frame["is_fraud"],
        amount=by_id["amount"].to_numpy(),
        merchant_id=by_id["merchant_id"].to_numpy(),
    )
    cases, raw = cases_from_frame(labelled, artifact.feature_names)
    index = make_index(settings)
    try:
        await index_cases(index, cases, artifact.metadata.scaler.embed(raw), batch_size=2000, progress=False)
    finally:
        await index.close()


async def _drop(settings: VectorSettings) -> None:
    index = make_index(settings)
    try:
        drop = getattr(index, "drop_collection", None)
        if drop is not None:
            await drop()
    finally:
        await index.close()
