"""Point-in-time training: Feast historical features -> time split -> LightGBM -> artifact."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureStore

from rtinfer.features.training_set import training_frame
from rtinfer.model.evaluation import holdout_metrics
from services.core.model_metadata import ArtifactMetadata, Scaler, Thresholds, TimeWindow
from services.fraud.features import MODEL_FEATURES
from services.model.artifact import ModelArtifact, build_artifact, train_booster, training_params


@dataclass(frozen=True)
class TrainingConfig:
    seed: int = 42
    holdout_fraction: float = 0.25  # the latest quarter of the history, by time
    review_fpr: float = 0.01  # review at the score 1% of legitimate holdout payments reach
    decline_fpr: float = 0.001
    num_iterations: int = 300
    feature_service: str = "fraud_v1"
    name: str = "fraud"


@dataclass(frozen=True)
class TrainingResult:
    artifact: ModelArtifact
    frame: pd.DataFrame  # the point-in-time training set (all rows)
    train_rows: int
    holdout_rows: int
    holdout_scores: np.ndarray
    holdout_labels: np.ndarray


def time_split(
    frame: pd.DataFrame, holdout_fraction: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Everything before the cut-off trains; everything at or after it is held out."""
    ordered = frame.sort_values(["timestamp", "payment_id"], kind="stable")
    cutoff = ordered["timestamp"].quantile(1.0 - holdout_fraction)
    return ordered[ordered["timestamp"] < cutoff], ordered[ordered["timestamp"] >= cutoff], cutoff


def threshold_at_fpr(labels: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """The smallest score that flags at most `fpr` of the legitimate payments."""
    legit = np.sort(scores[labels == 0])
    if not len(legit):
        return 0.5
    return float(min(np.quantile(legit, 1.0 - fpr, method="higher") + 1e-9, 1.0))


def train_from_store(store: FeatureStore, payments: pd.DataFrame, config: TrainingConfig) -> TrainingResult:
    frame = training_frame(store, config.feature_service, payments)
    return train_from_frame(frame, config)


def train_from_frame(frame: pd.DataFrame, config: TrainingConfig) -> TrainingResult:
    train, holdout, _cutoff = time_split(frame, config.holdout_fraction)
    names = list(MODEL_FEATURES)
    x_train = train[names].to_numpy(np.float64)
    y_train = train["is_fraud"].to_numpy(np.float64)
    x_holdout = holdout[names].to_numpy(np.float64)
    y_holdout = holdout["is_fraud"].to_numpy(np.int64)
    if y_train.sum() == 0 or y_holdout.sum() == 0:
        raise ValueError("both the training and the holdout window need fraud cases; generate more days")
    params = training_params(config.seed, {"num_iterations": config.num_iterations})
    booster = train_booster(x_train, y_train, names, config.seed, params)
    scores = np.asarray(booster.predict(x_holdout), dtype=np.float64)
    review = threshold_at_fpr(y_holdout, scores, config.review_fpr)
    decline = max(threshold_at_fpr(y_holdout, scores, config.decline_fpr), review)
    metadata = ArtifactMetadata(
        name=config.name,
        version=_version(booster.model_to_string(), config),
        created_at=datetime.now(UTC),
        feature_names=tuple(names),
        feature_service=config.feature_service,
        training_window=_window(train),
        holdout_window=_window(holdout),
        metrics=holdout_metrics(y_holdout, scores, fpr=config.review_fpr),
        thresholds=Thresholds(label=review, review=review, decline=decline),
        scaler=Scaler.fit(x_train),
        seed=config.seed,
        params=params,
        reference=_reference(booster, x_holdout, scores, y_holdout, names),
    )
    artifact = build_artifact(booster, metadata)
    return TrainingResult(artifact, frame, len(train), len(holdout), scores, y_holdout)


def labelled_cases(frame: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """The training rows as vector-index cases: case_id, label, amount, merchant_id, timestamp
    and the model's feature columns (embedded later with the artifact's scaler)."""
    lookup = payments.set_index("payment_id")
    return pd.DataFrame(
        {
            "case_id": frame["payment_id"].to_numpy(),
            "label": frame["is_fraud"].to_numpy(np.int64),
            "amount": lookup.loc[frame["payment_id"], "amount"].to_numpy(),
            "merchant_id": lookup.loc[frame["payment_id"], "merchant_id"].to_numpy(),
            "timestamp": frame["timestamp"].to_numpy(),
            **{name: frame[name].to_numpy(np.float64) for name in MODEL_FEATURES},
        }
    )


def _window(frame: pd.DataFrame) -> TimeWindow:
    return TimeWindow(
        start=frame["timestamp"].min().to_pydatetime(), end=frame["timestamp"].max().to_pydatetime()
    )


def _version(model_text: str, config: TrainingConfig) -> str:
    # Same data and seed give the same model text, hence the same version.
    digest = hashlib.sha256(
        model_text.encode() + json.dumps(config.__dict__, sort_keys=True).encode()
    ).hexdigest()
    return f"{config.feature_service}-{digest[:12]}"


def _reference(
    booster: Any, x_rows: np.ndarray, scores: np.ndarray, labels: np.ndarray, names: list[str]
) -> dict[str, Any]:
    """Reference distributions for drift monitoring, when the monitor package provides them.

    Taken from the time holdout, not the training rows: it is the latest stretch of history,
    so features over long windows (7 d, 30 d) have warmed up as they have in serving, and its
    scores are out of sample, as live scores are.
    """
    try:
        from services.core.monitoring.reference import build_reference
    except ImportError:
        return {}
    step = max(1, len(x_rows) // 20000)
    sample = x_rows[::step]  # the scores of these rows are already known: only attributions are new
    contributions = booster.predict(sample, pred_contrib=True)[:, :-1]
    return dict(build_reference(sample, names, scores[::step], contributions, labels=labels[::step]))
