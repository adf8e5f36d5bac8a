"""Point-in-time training through Feast: deterministic, and above the documented quality floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtinfer.datagen import GeneratorConfig, generate
from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.train import TrainingConfig, train_from_frame
from services.adapters.feast.settings import FeastSettings
from services.fraud.feast_repo import apply_definitions

ROC_AUC_FLOOR = 0.85  # docs/model.md, "Quality floor"


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    payments = generate(GeneratorConfig(seed=11, cards=800, merchants=120, days=30)).payments
    work = tmp_path_factory.mktemp("training")
    feast = FeastSettings(
        online_store="sqlite", repo_dir=work / "feast", data_dir=work / "features", project="training_test"
    )
    backfill(payments).write(feast.data_dir)
    return training_frame(apply_definitions(feast), feast.feature_service, payments)


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
    saved = result.artifact.save(tmp_path / "model")
    assert (saved / "model.txt").exists() and (saved / "metadata.json").exists()
