"""Point-in-time training through Feast: deterministic, above the documented quality floor, and
on a slice of recent history (a challenger) through the same join."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from feast import FeatureStore

from rtinfer.cli import main as rtinfer
from rtinfer.datagen import GeneratorConfig, generate
from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.train import TrainingConfig, TrainingDataError, train_from_frame, train_from_store
from services.adapters.feast.settings import FeastSettings
from services.fraud.feast_repo import apply_definitions
from services.model.artifact import ModelArtifact

ROC_AUC_FLOOR = 0.85  # docs/model.md, "Quality floor"
CHALLENGER_ROC_AUC_FLOOR = 0.8  # the last 14 of 30 days: half the rows, same patterns


@dataclass(frozen=True)
class History:
    store: FeatureStore
    payments: pd.DataFrame
    frame: pd.DataFrame  # training_frame of every payment


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    payments = generate(GeneratorConfig(seed=11, cards=800, merchants=120, days=30)).payments
    work = tmp_path_factory.mktemp("training")
    feast = FeastSettings(
        online_store="sqlite", repo_dir=work / "feast", data_dir=work / "features", project="training_test"
    )
    backfill(payments).write(feast.data_dir)
    store = apply_definitions(feast)
    return History(store, payments, training_frame(store, feast.feature_service, payments))


@pytest.fixture(scope="module")
def frame(history: History) -> pd.DataFrame:
    return history.frame


def test_same_seed_same_model_and_metrics(frame) -> None:  # type: ignore[no-untyped-def]
    config = TrainingConfig(seed=5, num_iterations=150)
    first = train_from_frame(frame, config)
    second = train_from_frame(frame, config)
    assert first.artifact.booster.model_to_string() == second.artifact.booster.model_to_string()
    assert first.artifact.version == second.artifact.version
    assert first.artifact.metadata.metrics == second.artifact.metadata.metrics
    other = train_from_frame(frame, TrainingConfig(seed=6, num_iterations=150))
    assert other.artifact.version != first.artifact.version


def test_holdout_quality_floor_and_artifact_contents(frame, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = train_from_frame(frame, TrainingConfig(seed=5, num_iterations=150))
    metadata = result.artifact.metadata
    print(
        f"holdout ROC AUC {metadata.metrics.roc_auc:.4f} PR AUC {metadata.metrics.pr_auc:.4f} "
        f"recall@1%FPR {metadata.metrics.recall_at_fpr.recall:.4f}"
    )
    assert metadata.metrics.roc_auc >= ROC_AUC_FLOOR
    assert metadata.training_window.end < metadata.holdout_window.start
    assert metadata.thresholds.review <= metadata.thresholds.decline
    assert set(metadata.reference["features"]) == set(metadata.feature_names)
    assert metadata.training_range is not None and metadata.training_range.payments == len(frame)
    saved = result.artifact.save(tmp_path / "model")
    assert (saved / "model.txt").exists() and (saved / "metadata.json").exists()


def _since(history: History, days_before_end: int) -> pd.Timestamp:
    return (history.payments["timestamp"].max() - pd.Timedelta(days=days_before_end)).floor("D")


def test_a_challenger_on_recent_history_goes_through_the_same_join(history: History) -> None:
    since = _since(history, 14)
    config = TrainingConfig(seed=5, num_iterations=60, since=since.to_pydatetime(), name="fraud-challenger")

    challenger = train_from_store(history.store, history.payments, config)

    # Joining only the recent payments gives the rows and the model of the full join, sliced.
    from_full_join = train_from_frame(history.frame, config)
    assert challenger.frame["payment_id"].tolist() == from_full_join.frame["payment_id"].tolist()
    assert challenger.artifact.booster.model_to_string() == from_full_join.artifact.booster.model_to_string()
    assert challenger.artifact.version == from_full_join.artifact.version
    champion = train_from_frame(history.frame, TrainingConfig(seed=5, num_iterations=60))
    assert challenger.artifact.version != champion.artifact.version
    metadata = challenger.artifact.metadata
    recent = history.payments[history.payments["timestamp"] >= since]
    print(
        f"challenger on {len(recent)} payments since {since}: holdout ROC AUC {metadata.metrics.roc_auc:.4f}"
    )
    assert metadata.name == "fraud-challenger"
    assert metadata.training_window.start >= since.to_pydatetime()
    assert metadata.holdout_window.end == history.payments["timestamp"].max().to_pydatetime()
    assert metadata.training_range is not None
    assert (metadata.training_range.since, metadata.training_range.payments) == (
        since.to_pydatetime(),
        len(recent),
    )
    assert metadata.metrics.roc_auc >= CHALLENGER_ROC_AUC_FLOOR


def test_a_slice_too_small_is_refused_before_the_join(history: History) -> None:
    config = TrainingConfig(since=history.payments["timestamp"].max().to_pydatetime() - timedelta(hours=1))

    with pytest.raises(TrainingDataError, match=r"payments; at least 1000 are needed"):
        train_from_store(history.store, history.payments, config)


def test_the_train_command_writes_a_challenger_artifact(tmp_path: Path) -> None:
    payments = generate(GeneratorConfig(seed=23, cards=300, merchants=60, days=20)).payments
    payments_path = tmp_path / "data" / "payments.parquet"
    payments_path.parent.mkdir()
    payments.to_parquet(payments_path)
    since = (payments["timestamp"].max() - pd.Timedelta(days=10)).floor("D")
    common = [
        "model", "train", "--online-store", "sqlite", "--repo-dir", str(tmp_path / "feast"),
        "--data-dir", str(tmp_path / "features"), "--project", "training_cli_test",
        "--payments", str(payments_path), "--iterations", "60",
    ]  # fmt: skip

    code = rtinfer(
        [
            *common,
            "--since",
            since.date().isoformat(),
            "--name",
            "fraud-challenger",
            "--out",
            str(tmp_path / "v2"),
        ]
    )

    assert code == 0
    artifact = ModelArtifact.load(tmp_path / "v2")
    assert artifact.metadata.name == "fraud-challenger"
    assert artifact.metadata.training_range is not None
    assert artifact.metadata.training_range.since == since.to_pydatetime()
    assert artifact.metadata.training_window.start >= since.to_pydatetime()
    assert not (payments_path.parent / "cases.parquet").exists(), "a slice must not replace the indexed cases"
    # The last hour cannot train: exit 2 and a reason, nothing written.
    assert rtinfer([*common, "--window", "1h", "--out", str(tmp_path / "v3")]) == 2
    assert not (tmp_path / "v3").exists()
