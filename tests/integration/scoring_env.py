"""A complete, real environment for scoring tests: Feast on Redis, a trained artifact served
by the KServe model server, labelled cases in Weaviate, unique Kafka topics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.launcher import RunningModelServer, running_model_server
from rtinfer.model.train import TrainingConfig, train_from_frame
from rtinfer.vectors.indexing import index_cases
from services.adapters.feast.settings import FeastSettings
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve.client import KServeClientSettings
from services.adapters.vectors.factory import make_index
from services.adapters.vectors.settings import VectorSettings
from services.fraud.cases import FRAUD_CASE_SCHEMA, cases_from_frame
from services.fraud.feast_repo import apply_definitions
from services.model.artifact import ModelArtifact
from services.scoring.settings import ScoringSettings, Topics
from tests.integration.datasets import generated_payments
from tests.servers import KafkaEndpoint, RedisEndpoint, WeaviateEndpoint


@dataclass(frozen=True)
class ScoringEnv:
    name: str
    payments: pd.DataFrame  # the stream to score
    artifact: ModelArtifact
    model_dir: Path
    server: RunningModelServer
    feast: FeastSettings
    vectors: VectorSettings
    kafka: KafkaEndpoint
    training: pd.DataFrame | None = None  # the point-in-time frame the artifact was trained on

    def settings(self, suffix: str, **overrides: object) -> ScoringSettings:
        """Scoring settings with topics and group unique to one test."""
        prefix = f"{self.name}-{suffix}"
        fields: dict[str, object] = {
            "kafka": KafkaSettings(bootstrap=self.kafka.bootstrap),
            "feast": self.feast,
            "model": KServeClientSettings(target=self.server.rest_url, model_name="fraud", timeout_s=5.0),
            "vectors": self.vectors,
            "topics": Topics(
                payments=f"{prefix}-payments",
                predictions=f"{prefix}-predictions",
                explanations=f"{prefix}-explanations",
                dlq=f"{prefix}-dlq",
                shadow_predictions=f"{prefix}-shadow",
            ),
            "model_dir": self.model_dir,
            "group_id": f"{prefix}-scoring",
            "http_port": 0,
        }
        fields.update(overrides)
        return ScoringSettings(**fields)  # type: ignore[arg-type]


@contextlib.contextmanager
def scoring_env(
    name: str, kafka: KafkaEndpoint, redis: RedisEndpoint, weaviate: WeaviateEndpoint, work: Path
) -> Iterator[ScoringEnv]:
    history = generated_payments(11_000)
    feast = FeastSettings(
        online_store="redis",
        redis_url=redis.url,
        project=name.replace("-", "_"),
        repo_dir=work / "feast",
        data_dir=work / "features",
    )
    backfill(history).write(feast.data_dir)
    store = apply_definitions(feast)
    end = history["timestamp"].max().to_pydatetime()
    store.materialize(start_date=history["timestamp"].min().to_pydatetime(), end_date=end)
    frame = training_frame(store, feast.feature_service, history)
    result = train_from_frame(frame, TrainingConfig(seed=7, num_iterations=120))
    model_dir = work / "model"
    result.artifact.save(model_dir)
    collection = "C" + name.replace("-", "_")[2:]
    vectors = VectorSettings(
        backend="weaviate",
        collection=collection,
        weaviate_url=f"http://{weaviate.http_host}:{weaviate.http_port}",
        weaviate_grpc_port=weaviate.grpc_port,
    ).with_default_schema(FRAUD_CASE_SCHEMA)
    asyncio.run(_index(vectors, frame, history, result.artifact))
    with running_model_server(model_dir) as server:
        yield ScoringEnv(
            name,
            history.iloc[:10_000].reset_index(drop=True),
            result.artifact,
            model_dir,
            server,
            feast,
            vectors,
            kafka,
            frame,
        )


async def _index(
    settings: VectorSettings, frame: pd.DataFrame, history: pd.DataFrame, artifact: ModelArtifact
) -> None:

    labelled = frame.assign(
        case_id=frame["payment_id"],
        label=frame["is_fraud"],
        amount=history.set_index("payment_id").loc[frame["payment_id"], "amount"].to_numpy(),
        merchant_id=history.set_index("payment_id").loc[frame["payment_id"], "merchant_id"].to_numpy(),
    )
    cases, raw = cases_from_frame(labelled, artifact.feature_names)
    index = make_index(settings)
    try:
        await index_cases(index, cases, artifact.metadata.scaler.embed(raw), batch_size=2000, progress=False)
    finally:
        await index.close()
