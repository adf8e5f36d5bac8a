"""Synthetic prediction, explanation and label events, with and without drift (numpy, seeded).

Features and scores are drawn independently, so each drift kind moves one thing only:
`amount` (feature), the score mixture (score), or the contributions of `velocity_1h`
(attribution). Segments (country, card_type) are independent of everything: no bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np

from events import (
    PREDICTION,
    Decision,
    Event,
    ExplainReason,
    Explanation,
    FeatureUse,
    Label,
    Prediction,
    explanation_event,
    label_event,
    prediction_id,
)
from services.core.monitoring.reference import Reference, build_reference
from services.core.monitoring.report import ModelReference

FEATURES = ("amount", "velocity_1h", "merchant_risk", "card_age_days")
CONTRIBUTION_SD = {"amount": 0.8, "velocity_1h": 0.5, "merchant_risk": 0.3, "card_age_days": 0.2}
MODEL_NAME, MODEL_VERSION = "fraud", "7"
THRESHOLD = 0.5
SOURCE = "//tests/scoring"
T0 = datetime(2025, 3, 3, tzinfo=UTC)  # a multiple of every window size used here
FRAUD_RATE = 0.3


@dataclass(frozen=True)
class Drift:
    """What changes from `start_s` (seconds after T0) on."""

    start_s: float
    amount_scale: float = 1.0
    score_shift: bool = False
    attribution_feature: str | None = None
    attribution_scale: float = 3.0


@dataclass(frozen=True)
class Rows:
    features: np.ndarray  # [rows, features], NaN = missing
    fraud: np.ndarray
    scores: np.ndarray
    contributions: np.ndarray
    country: np.ndarray
    card_type: np.ndarray


def draw_rows(rng: np.random.Generator, count: int) -> Rows:
    """Undrifted rows."""
    fraud = (rng.random(count) < FRAUD_RATE).astype(np.int64)
    scores = np.where(fraud == 1, rng.beta(6, 2, count), rng.beta(2, 2.4, count))
    card_age = rng.exponential(300, count)
    card_age[rng.random(count) < 0.05] = np.nan
    features = np.column_stack(
        [rng.lognormal(3.5, 1.0, count), rng.poisson(2, count).astype(float), rng.beta(2, 5, count), card_age]
    )
    contributions = np.column_stack([rng.normal(0, CONTRIBUTION_SD[name], count) for name in FEATURES])
    country = rng.choice(np.array(["FR", "DE"]), count)
    card_type = rng.choice(np.array(["credit", "debit"]), count, p=[0.6, 0.4])
    return Rows(features, fraud, scores, contributions, country, card_type)


@cache
def reference_dict() -> dict[str, Any]:
    rows = draw_rows(np.random.default_rng(12345), 20_000)
    return build_reference(rows.features, FEATURES, rows.scores, rows.contributions, labels=rows.fraud)


def model_reference() -> ModelReference:
    return ModelReference(MODEL_NAME, MODEL_VERSION, Reference.model_validate(reference_dict()), FEATURES)


def metadata_json() -> dict[str, Any]:
    """A metadata.json as the model package writes it (keys the monitor ignores included)."""
    return {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "feature_names": list(FEATURES),
        "created_at": "2026-01-01T00:00:00Z",
        "training_window": {"start": "2025-12-01T00:00:00Z", "end": "2025-12-25T00:00:00Z"},
        "holdout_window": {"start": "2025-12-25T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        "thresholds": {"label": THRESHOLD, "review": 0.5, "decline": 0.8},
        "metrics": {"roc_auc": 0.9, "pr_auc": 0.4, "recall_at_fpr": {"fpr": 0.01, "recall": 0.5}},
        "scaler": {"mean": [0.0] * len(FEATURES), "scale": [1.0] * len(FEATURES)},
        "seed": 1,
        "reference": reference_dict(),
    }


def _drifted(rows: Rows, rng: np.random.Generator, drift: Drift | None, times_s: np.ndarray) -> Rows:
    if drift is None:
        return rows
    on = times_s >= drift.start_s
    features = rows.features.copy()
    features[on, 0] *= drift.amount_scale
    scores = rows.scores.copy()
    if drift.score_shift:
        shifted = np.where(rows.fraud == 1, rng.beta(8, 1.5, len(scores)), rng.beta(4, 2, len(scores)))
        scores[on] = shifted[on]
    contributions = rows.contributions.copy()
    if drift.attribution_feature is not None:
        contributions[on, FEATURES.index(drift.attribution_feature)] *= drift.attribution_scale
    return Rows(features, rows.fraud, scores, contributions, rows.country, rows.card_type)


def stream(
    windows: int,
    per_window: int,
    *,
    size_s: int = 300,
    seed: int = 0,
    drift: Drift | None = None,
    explain_share: float = 0.2,
    label_share: float = 1.0,
) -> list[Event[Any]]:
    """Predictions in time order over `windows` windows from T0; each followed by its explanation
    (for `explain_share` of them) and its label (for `label_share`)."""
    rng = np.random.default_rng(seed)
    count = windows * per_window
    times_s = np.sort(rng.uniform(0, windows * size_s, count))
    rows = _drifted(draw_rows(rng, count), rng, drift, times_s)
    explained = rng.random(count) < explain_share
    labeled = rng.random(count) < label_share
    events: list[Event[Any]] = []
    for row in range(count):
        time = T0 + timedelta(seconds=float(times_s[row]))
        prediction = prediction_of(rows, row, f"pay-{seed}-{row}", time)
        events.append(prediction)
        if explained[row]:
            events.append(
                explanation_of(prediction, rows.contributions[row], time + timedelta(milliseconds=5))
            )
        if labeled[row]:
            events.append(label_of(prediction, int(rows.fraud[row]), time + timedelta(seconds=1)))
    return events


def prediction_of(rows: Rows, row: int, payment_id: str, time: datetime, **changes: Any) -> Event[Prediction]:
    score = float(rows.scores[row])
    decision = Decision.APPROVE if score < THRESHOLD else Decision.REVIEW if score < 0.8 else Decision.DECLINE
    features = {
        name: FeatureUse(value=None if np.isnan(value) else float(value))
        for name, value in zip(FEATURES, rows.features[row], strict=True)
    }
    fields: dict[str, Any] = {
        "input_id": payment_id,
        "input_source": "//tests/acquirer",
        "entity": {"card_id": f"card-{row % 97}"},
        "score": score,
        "decision": decision,
        "threshold": THRESHOLD,
        "model_name": MODEL_NAME,
        "model_version": MODEL_VERSION,
        "features": features,
        "segment": {"country": str(rows.country[row]), "card_type": str(rows.card_type[row])},
        "explained": True,
    }
    return prediction_event_at(Prediction(**(fields | changes)), time)


def prediction_event_at(prediction: Prediction, time: datetime) -> Event[Prediction]:
    return Event(
        id=prediction_id(prediction.input_source, prediction.input_id, prediction.model_version),
        source=SOURCE,
        type=PREDICTION,
        time=time,
        subject=prediction.entity.get("card_id"),
        partitionkey=prediction.entity.get("card_id"),
        causationid=prediction.input_id,
        data=prediction,
    )


def explanation_of(
    prediction: Event[Prediction], contributions: np.ndarray, time: datetime
) -> Event[Explanation]:
    explanation = Explanation(
        prediction_id=prediction.id,
        input_id=prediction.data.input_id,
        model_name=prediction.data.model_name,
        model_version=prediction.data.model_version,
        score=prediction.data.score,
        base_value=-1.0,
        contributions={name: float(value) for name, value in zip(FEATURES, contributions, strict=True)},
        reason=ExplainReason.SAMPLED,
    )
    return explanation_event(prediction, explanation, source=SOURCE, time=time)


def label_of(prediction: Event[Prediction], is_fraud: int, time: datetime) -> Event[Label]:
    label = Label(
        payment_id=prediction.data.input_id,
        card_id=prediction.data.entity["card_id"],
        is_fraud=1 if is_fraud else 0,
        label_time=time,
        reason="chargeback" if is_fraud else None,
    )
    return label_event(label, source="//tests/chargebacks")


def closing_prediction(after_s: float, payment_id: str = "pay-closing") -> Event[Prediction]:
    """One prediction `after_s` seconds after T0: its time moves the watermark past earlier windows."""
    rows = draw_rows(np.random.default_rng(99), 1)
    return prediction_of(rows, 0, payment_id, T0 + timedelta(seconds=after_s))
