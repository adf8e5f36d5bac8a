"""A small synthetic artifact with a planted signal, for tests, benchmarks and demos.

Not the fraud model: real training reads point-in-time features from Feast. This only needs
to be a genuine LightGBM artifact whose predictions are easy to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rtinfer.model.evaluation import holdout_metrics
from services.core.model_metadata import ArtifactMetadata, Scaler, Thresholds, TimeWindow
from services.model.artifact import ModelArtifact, build_artifact, train_booster, training_params

FEATURE_NAMES = (
    "amount",
    "amount_vs_card_mean",
    "card_txn_count_1h",
    "card_txn_count_24h",
    "card_amount_sum_24h",
    "merchant_fraud_rate_30d",
    "merchant_txn_count_24h",
    "card_age_days",
    "new_merchant",
    "hour_of_day",
)


@dataclass(frozen=True)
class SyntheticData:
    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int32]
    feature_names: tuple[str, ...] = FEATURE_NAMES


def synthetic_data(rows: int, seed: int, *, missing_rate: float = 0.02) -> SyntheticData:
    """Rows of plausible payment features; fraud odds rise with amount, velocity and a new merchant."""
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3.5, 1.0, rows)
    features = np.column_stack(
        [
            amount,
            amount / rng.lognormal(3.5, 0.5, rows),
            rng.poisson(0.5, rows),
            rng.poisson(4.0, rows),
            amount * rng.uniform(1.0, 6.0, rows),
            rng.beta(1.0, 60.0, rows),
            rng.poisson(30.0, rows),
            rng.uniform(1.0, 2000.0, rows),
            rng.binomial(1, 0.2, rows),
            rng.integers(0, 24, rows),
        ]
    ).astype(np.float64)
    log_odds = (
        -4.0
        + 1.2 * np.log1p(features[:, 1])
        + 0.9 * features[:, 2]
        + 25.0 * features[:, 5]
        + 1.5 * features[:, 8]
        - 0.001 * features[:, 7]
    )
    labels = (rng.uniform(size=rows) < 1.0 / (1.0 + np.exp(-log_odds))).astype(np.int32)
    features[rng.uniform(size=features.shape) < missing_rate] = np.nan
    return SyntheticData(features=features, labels=labels)


def synthetic_artifact(
    rows: int = 5000, seed: int = 7, *, num_iterations: int = 60, version: str | None = None
) -> ModelArtifact:
    """Train on the first 80% of synthetic rows, measure on the rest, return the artifact."""
    data = synthetic_data(rows, seed)
    split = int(rows * 0.8)
    params = training_params(seed, {"num_iterations": num_iterations})
    booster = train_booster(data.features[:split], data.labels[:split], data.feature_names, seed, params)
    holdout_scores = booster.predict(data.features[split:])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    metadata = ArtifactMetadata(
        name="fraud",
        version=version or f"synthetic-{seed}-{rows}",
        created_at=datetime.now(UTC),
        feature_names=data.feature_names,
        feature_service="fraud_v1",
        training_window=TimeWindow(start=start, end=start + timedelta(days=24)),
        holdout_window=TimeWindow(start=start + timedelta(days=24), end=start + timedelta(days=30)),
        metrics=holdout_metrics(data.labels[split:], holdout_scores),
        thresholds=Thresholds(label=0.5, review=0.3, decline=0.8),
        scaler=Scaler.fit(data.features[:split]),
        seed=seed,
        params=params,
        reference={"train_rows": split, "holdout_rows": rows - split, "source": "synthetic"},
    )
    return build_artifact(booster, metadata)


def write_synthetic_artifact(path: Path, rows: int = 5000, seed: int = 7) -> ModelArtifact:
    artifact = synthetic_artifact(rows, seed)
    artifact.save(path)
    return artifact
