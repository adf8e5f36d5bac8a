"""Demo preparation: data, Feast repo (history only), model artifact, vector index of past cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console

from rtinfer.datagen import GeneratorConfig, generate, write_dataset
from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.train import TrainingConfig, train_from_frame
from rtinfer.vectors.indexing import index_cases
from services.adapters.feast.settings import FeastSettings
from services.adapters.vectors.factory import make_index
from services.adapters.vectors.settings import VectorSettings
from services.fraud.cases import FRAUD_CASE_SCHEMA, cases_from_frame
from services.fraud.feast_repo import apply_definitions
from services.model.artifact import ArtifactError, ModelArtifact


@dataclass(frozen=True)
class DemoData:
    history: pd.DataFrame  # what the feature store, the model and the index know
    stream: pd.DataFrame  # what the demo streams through the pipeline
    artifact: ModelArtifact


def load_or_generate(work: Path, console: Console, seed: int, drift: str | None) -> pd.DataFrame:
    data_dir = work / ("data" if drift is None else f"data-{drift}")
    payments_file = data_dir / "payments.parquet"
    if not payments_file.exists():
        with console.status("generating synthetic payments ..."):
            config = GeneratorConfig(
                seed=seed,
                cards=2500,
                merchants=300,
                days=28,
                drift=drift,  # type: ignore[arg-type]
                drift_from_day=24 if drift else None,
            )
            write_dataset(generate(config), data_dir)
    payments = pd.read_parquet(payments_file)
    console.print(f"[green]data[/]: {len(payments):,} payments in {payments_file}")
    return payments


def split(payments: pd.DataFrame, stream_events: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History and stream: the stream is the latest `stream_events` payments, extended back to
    the UTC midnight before them, so the monitor's day windows over the stream are whole days
    (a partial first day would show time-of-day features as drifted)."""
    ordered = payments.sort_values(["timestamp", "payment_id"], kind="stable").reset_index(drop=True)
    first = ordered["timestamp"].iloc[max(len(ordered) - stream_events, 0)]
    streamed = ordered["timestamp"] >= first.floor("D")
    if streamed.all():  # fewer payments than a day and the stream: keep some history
        streamed = ordered.index >= max(len(ordered) - stream_events, 1)
    return ordered[~streamed].reset_index(drop=True), ordered[streamed].reset_index(drop=True)


def prepare_features(history: pd.DataFrame, feast: FeastSettings, console: Console) -> None:
    with console.status("backfilling features and materializing the online store (SQLite) ..."):
        backfill(history).write(feast.data_dir)
        store = apply_definitions(feast)
        store.materialize(
            start_date=history["timestamp"].min().to_pydatetime(),
            end_date=history["timestamp"].max().to_pydatetime(),
        )
    console.print(
        f"[green]features[/]: Feast repo in {feast.repo_dir}, online store SQLite, history to "
        f"{history['timestamp'].max():%Y-%m-%d %H:%M}"
    )


def prepare_model(
    history: pd.DataFrame, feast: FeastSettings, model_dir: Path, console: Console
) -> tuple[ModelArtifact, pd.DataFrame | None]:
    try:
        artifact = ModelArtifact.load(model_dir)
        console.print(f"[green]model[/]: {artifact.version} (existing artifact in {model_dir})")
        return artifact, None
    except ArtifactError:
        pass
    with console.status("training on point-in-time features from Feast ..."):
        store = apply_definitions(feast)
        frame = training_frame(store, feast.feature_service, history)
        result = train_from_frame(frame, TrainingConfig(seed=42, num_iterations=200))
        result.artifact.save(model_dir)
    metrics = result.artifact.metadata.metrics
    console.print(
        f"[green]model[/]: trained {result.artifact.version}: holdout ROC AUC {metrics.roc_auc:.3f}, "
        f"PR AUC {metrics.pr_auc:.3f}"
    )
    return result.artifact, frame


async def prepare_vectors(
    history: pd.DataFrame,
    frame: pd.DataFrame | None,
    feast: FeastSettings,
    artifact: ModelArtifact,
    settings: VectorSettings,
    console: Console,
    force: bool = False,
) -> None:
    # Only a Milvus Lite file can be reused across runs: its marker sits next to it and names the
    # artifact it was indexed for. A Weaviate collection has no file (and no marker).
    marker = settings.milvus_path.with_suffix(".indexed") if settings.backend == "milvus" else None
    where = (
        f"Milvus Lite ({settings.milvus_path})"
        if settings.backend == "milvus"
        else f"Weaviate ({settings.collection})"
    )
    if not force and marker is not None and marker.exists() and marker.read_text() == artifact.version:
        console.print(f"[green]vectors[/]: index in {where} (existing)")
        return
    if frame is None:
        frame = training_frame(apply_definitions(feast), feast.feature_service, history)
    # Every fraud case plus a sample of legitimate ones keeps the index small and informative.
    labelled = frame[(frame["is_fraud"] == 1) | (frame.index % 5 == 0)]
    lookup = history.set_index("payment_id")
    cases_frame = labelled.assign(
        case_id=labelled["payment_id"],
        label=labelled["is_fraud"],
        amount=lookup.loc[labelled["payment_id"], "amount"].to_numpy(),
        merchant_id=lookup.loc[labelled["payment_id"], "merchant_id"].to_numpy(),
    )
    cases, raw = cases_from_frame(cases_frame, artifact.feature_names)
    index = make_index(settings.with_default_schema(FRAUD_CASE_SCHEMA))
    try:
        written = await index_cases(index, cases, artifact.metadata.scaler.embed(raw), batch_size=5000)
    finally:
        await index.close()
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(artifact.version)
    console.print(f"[green]vectors[/]: {written:,} labelled past cases in {where}")
