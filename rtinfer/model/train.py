"""Point-in-time training: Feast historical features -> time split -> LightGBM -> artifact.

A challenger is trained the same way on recent history: `since` and/or `window` keep the
payments of one slice of time; the point-in-time join, the time-ordered holdout (the last
fraction of the slice) and the artifact are unchanged, and the slice is recorded in
metadata.training_range.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureStore

from rtinfer.features.training_set import training_frame
from rtinfer.model.evaluation import holdout_metrics
from services.core.model_metadata import ArtifactMetadata, Scaler, Thresholds, TimeWindow, TrainingRange
from services.fraud.features import MODEL_FEATURES
from services.model.artifact import ModelArtifact, build_artifact, train_booster, training_params


class TrainingDataError(ValueError):
    """The (selected) history cannot train a model: too few payments, or no fraud where it is
    needed; the message says which and what to change."""


@dataclass(frozen=True)
class TrainingConfig:
    """How to train; `since` and `window` select the history (default: all of it).

    since: keep payments at or after this time (aware).
    window: with `since`, keep [since, since + window); alone, the last `window` of the history
        (payments at or after the latest payment's time minus `window`).
    min_rows: refuse a selected history with fewer payments.
    """

    seed: int = 42
    holdout_fraction: float = 0.25  # the latest quarter of the history, by time
    review_fpr: float = 0.01  # review at the score 1% of legitimate holdout payments reach
    decline_fpr: float = 0.001
    num_iterations: int = 300
    feature_service: str = "fraud_v1"
    name: str = "fraud"
    since: datetime | None = None
    window: timedelta | None = None
    min_rows: int = 1000

    def __post_init__(self) -> None:
        if self.since is not None and self.since.tzinfo is None:
            raise ValueError(f"since must be timezone-aware, got {self.since}")
        if self.window is not None and self.window <= timedelta(0):
            raise ValueError(f"window must be positive, got {self.window}")
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ValueError(f"holdout_fraction must be within (0, 1), got {self.holdout_fraction}")

    @property
    def restricted(self) -> bool:
        """Whether only a slice of the history trains."""
        return self.since is not None or self.window is not None


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


def history_bounds(timestamps: pd.Series, config: TrainingConfig) -> tuple[datetime | None, datetime | None]:
    """[since, until) of the payments `config` selects from these timestamps; None = unbounded."""
    if config.since is not None:
        return config.since, (config.since + config.window if config.window is not None else None)
    if config.window is not None and len(timestamps):
        return timestamps.max().to_pydatetime() - config.window, None
    return None, None


def select_history(rows: pd.DataFrame, config: TrainingConfig) -> tuple[pd.DataFrame, TrainingRange]:
    """The rows (payments, or a training frame: both have `timestamp` and `is_fraud`) in the
    slice `config` selects, and that slice as recorded in the metadata.

    Selecting the payments before the point-in-time join gives the same rows as selecting from
    the joined frame: each payment's features depend on its time, not on the other rows.
    """
    since, until = history_bounds(rows["timestamp"], config)
    keep = np.ones(len(rows), dtype=bool)
    if since is not None:
        keep &= (rows["timestamp"] >= since).to_numpy()
    if until is not None:
        keep &= (rows["timestamp"] < until).to_numpy()
    selected = rows[keep]
    recorded = TrainingRange(
        since=since, until=until, payments=len(selected), frauds=int(selected["is_fraud"].sum())
    )
    return selected, recorded


def check_history(recorded: TrainingRange, config: TrainingConfig) -> None:
    """Raise TrainingDataError when the selected history is too small or has no fraud."""
    where = _describe(recorded)
    wider = " (an earlier --since or a longer --window)" if config.restricted else " (generate more days)"
    if recorded.payments < config.min_rows:
        raise TrainingDataError(
            f"{where} has {recorded.payments} payments; at least {config.min_rows} are needed{wider}"
        )
    if recorded.frauds == 0:
        raise TrainingDataError(f"{where} has no fraud cases; a model needs some{wider}")


def train_from_store(store: FeatureStore, payments: pd.DataFrame, config: TrainingConfig) -> TrainingResult:
    """Select the history, join its point-in-time features from Feast, train."""
    selected, recorded = select_history(payments, config)
    check_history(recorded, config)  # before the join, the slow part
    frame = training_frame(store, config.feature_service, selected)
    return train_from_frame(frame, config)


def train_from_frame(frame: pd.DataFrame, config: TrainingConfig) -> TrainingResult:
    """Train on the rows of `frame` (a training_frame) that `config` selects; raises
    TrainingDataError when they cannot train a model."""
    frame, recorded = select_history(frame, config)
    check_history(recorded, config)
    train, holdout, _cutoff = time_split(frame, config.holdout_fraction)
    names = list(MODEL_FEATURES)
    x_train = train[names].to_numpy(np.float64)
    y_train = train["is_fraud"].to_numpy(np.float64)
    x_holdout = holdout[names].to_numpy(np.float64)
    y_holdout = holdout["is_fraud"].to_numpy(np.int64)
    if y_train.sum() == 0 or y_holdout.sum() == 0:
        part = "training part" if y_train.sum() == 0 else f"holdout (the last {config.holdout_fraction:.0%})"
        raise TrainingDataError(
            f"{_describe(recorded)} has no fraud cases in its {part}; both parts need some"
            + (" (an earlier --since or a longer --window)" if config.restricted else " (generate more days)")
        )
    params = training_params(config.seed, {"num_iterations": config.num_iterations})
    booster = train_booster(x_train, y_train, names, config.seed, params)
    scores = np.asarray(booster.predict(x_holdout), dtype=np.float64)
    review = threshold_at_fpr(y_holdout, scores, config.review_fpr)
    decline = max(threshold_at_fpr(y_holdout, scores, config.decline_fpr), review)
    metadata = ArtifactMetadata(
        name=config.name,
        version=_version(booster.model_to_string(), config, frame),
        created_at=datetime.now(UTC),
        feature_names=tuple(names),
        feature_service=config.feature_service,
        training_window=_window(train),
        holdout_window=_window(holdout),
        training_range=recorded,
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


def _describe(recorded: TrainingRange) -> str:
    if recorded.since is None and recorded.until is None:
        return "the history"
    since = recorded.since.isoformat() if recorded.since else "the start"
    until = recorded.until.isoformat() if recorded.until else "the end"
    return f"the history from {since} to {until}"


def _version(model_text: str, config: TrainingConfig, frame: pd.DataFrame) -> str:
    # Same data and config give the same model text, hence the same version; other data (another
    # slice of history) gives another version even where the model text happened to be equal.
    rows = frame[["payment_id", "timestamp", "is_fraud"]].sort_values(
        ["timestamp", "payment_id"], kind="stable"
    )
    digest = hashlib.sha256(model_text.encode())
    options = {name: value for name, value in config.__dict__.items() if name != "min_rows"}
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    digest.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return f"{config.feature_service}-{digest.hexdigest()[:12]}"


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
