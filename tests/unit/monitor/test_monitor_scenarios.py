"""The data generator's drift scenarios, end to end: features, model, predictions, monitor.

Generated payments (40 days, drift from day 32) go through the project's one feature definition
(backfill, then real Feast on its embedded SQLite store, point in time), a model is trained on
the undrifted days before day 32 (its reference comes from its time holdout, as `rtinfer model
train` writes it), and the 6 day windows from day 32 on are scored and fed to the monitor core as
prediction events with 20 % sampled explanations. No servers: Feast runs in process.

What is expected, measured with these seeds and sizes (about 1,650 payments a day):
- no drift: no feature, score or attribution alert in any window (largest feature PSI 0.054);
- `amounts`: `amount` flagged from the first drifted window on (PSI 0.44-0.52), and only
  amount-derived features flagged;
- `merchant-mix`: `channel_code` flagged from the first drifted window on (PSI 0.64-0.77), and
  none of the velocity or time-of-day features;
- `new-pattern` adds night-time ATM fraud worth about 0.3 % of the legitimate volume, inside the
  normal ranges of every feature: it is a concept drift that no feature PSI sees (largest 0.055),
  so nothing may be flagged; it shows only in delayed-label performance (docs/monitoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from events import Decision, Event, ExplainReason, Explanation, FeatureUse, Prediction, explanation_event
from events.drift import DriftReport
from rtinfer.datagen import GeneratorConfig, generate
from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.train import TrainingConfig, TrainingResult, train_from_frame
from services.adapters.feast.settings import FeastSettings
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor
from services.core.monitoring.reference import Reference
from services.core.monitoring.report import ModelReference
from services.fraud.feast_repo import apply_definitions
from services.fraud.features import MODEL_FEATURES
from tests.unit.monitor.streams import prediction_event_at

pytestmark = [pytest.mark.unit, pytest.mark.slow]
DAYS, DRIFT_DAY, WINDOWS = 40, 32, 6
DAY = timedelta(days=1)
VELOCITY_AND_TIME = {
    "card_count_10m",
    "card_count_1h",
    "card_count_24h",
    "card_count_7d",
    "hour_of_day",
    "seconds_since_prev",
}
AMOUNT_DERIVED = {
    "amount",
    "amount_to_card_mean",
    "card_amount_sum_1h",
    "card_amount_sum_24h",
    "card_mean_amount_7d",
}


@dataclass(frozen=True)
class Scenario:
    payments: pd.DataFrame
    frame: pd.DataFrame  # point-in-time model features per payment


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios")


@cache
def scenario(work: Path, drift: str) -> Scenario:
    config = GeneratorConfig(
        seed=11,
        cards=1000,
        merchants=150,
        days=DAYS,
        drift=None if drift == "none" else drift,  # type: ignore[arg-type]
        drift_from_day=None if drift == "none" else DRIFT_DAY,
    )
    payments = generate(config).payments
    feast = FeastSettings(
        repo_dir=work / f"feast-{drift}",
        data_dir=work / f"features-{drift}",
        project=f"scenario_{drift.replace('-', '_')}",
    )
    backfill(payments).write(feast.data_dir)
    store = apply_definitions(feast)
    return Scenario(payments, training_frame(store, feast.feature_service, payments))


def drift_start(frame: pd.DataFrame) -> pd.Timestamp:
    return frame["timestamp"].min().floor("D") + pd.Timedelta(days=DRIFT_DAY)


@cache
def _model(work: Path) -> TrainingResult:
    base = scenario(work, "none").frame
    return train_from_frame(base[base["timestamp"] < drift_start(base)], TrainingConfig(num_iterations=150))


def _events(result: TrainingResult, rows: pd.DataFrame) -> list[Event[Any]]:
    metadata = result.artifact.metadata
    matrix = rows[list(MODEL_FEATURES)].to_numpy(np.float64)
    scores = np.asarray(result.artifact.booster.predict(matrix), dtype=np.float64)
    contributions = result.artifact.booster.predict(matrix, pred_contrib=True)
    sampled = np.random.default_rng(3).random(len(rows)) < 0.2
    events: list[Event[Any]] = []
    for row, (payment_id, time) in enumerate(zip(rows["payment_id"], rows["timestamp"], strict=True)):
        score = float(scores[row])
        prediction = Prediction(
            input_id=payment_id,
            input_source="//tests/acquirer",
            entity={"card_id": "c"},
            score=score,
            decision=Decision.REVIEW if score >= metadata.thresholds.review else Decision.APPROVE,
            threshold=metadata.thresholds.label,
            model_name=metadata.name,
            model_version=metadata.version,
            features={
                name: FeatureUse(value=None if np.isnan(value) else float(value))
                for name, value in zip(MODEL_FEATURES, matrix[row], strict=True)
            },
            explained=bool(sampled[row]),
        )
        event = prediction_event_at(prediction, time.to_pydatetime())
        events.append(event)
        if sampled[row]:
            explanation = Explanation(
                prediction_id=event.id,
                input_id=payment_id,
                model_name=metadata.name,
                model_version=metadata.version,
                score=score,
                base_value=float(contributions[row, -1]),
                contributions=dict(zip(MODEL_FEATURES, map(float, contributions[row, :-1]), strict=True)),
                reason=ExplainReason.SAMPLED,
            )
            events.append(explanation_event(event, explanation, source="//tests", time=event.time))
    return events


@cache
def reports(work: Path, drift: str) -> tuple[DriftReport, ...]:
    result = _model(work)
    frame = scenario(work, drift).frame
    start = drift_start(frame)
    scored = frame[(frame["timestamp"] >= start) & (frame["timestamp"] < start + WINDOWS * DAY)]
    closing = frame[frame["timestamp"] >= start + (WINDOWS + 1) * DAY].head(1)
    metadata = result.artifact.metadata
    reference = ModelReference(
        metadata.name, metadata.version, Reference.model_validate(metadata.reference), MODEL_FEATURES
    )
    config = MonitorConfig(
        window_sizes_s=(86400,),
        allowed_lateness_s=0.0,
        segment_attributes=(),
        attribution_reasons=("sampled",),
    )
    monitor = Monitor(reference, config, source="//tests/monitor", clock=start.to_pydatetime)
    for event in _events(result, pd.concat([scored, closing])):
        monitor.observe(event)
    found = tuple(event.data for event in monitor.outbox if isinstance(event.data, DriftReport))
    assert len(found) == WINDOWS
    return found


def flagged_features(report: DriftReport) -> set[str]:
    return {alert.feature for alert in report.alerts if alert.metric == "feature_psi" and alert.feature}


def test_the_undrifted_days_raise_no_drift_alert(work: Path) -> None:
    for report in reports(work, "none"):
        assert report.counts.predictions > 1000 and report.counts.explanations > 200
        drift_alerts = [
            a for a in report.alerts if a.metric in ("feature_psi", "score_psi", "attribution_ratio")
        ]
        assert drift_alerts == [], [a.message for a in drift_alerts]


def test_amounts_drift_is_flagged_on_amount_features_only(work: Path) -> None:
    for report in reports(work, "amounts"):  # from the first drifted window on
        flagged = flagged_features(report)
        assert "amount" in flagged
        assert flagged <= AMOUNT_DERIVED, flagged - AMOUNT_DERIVED


def test_merchant_mix_drift_is_flagged_on_channel_not_on_velocity(work: Path) -> None:
    for report in reports(work, "merchant-mix"):
        flagged = flagged_features(report)
        assert "channel_code" in flagged
        assert not flagged & VELOCITY_AND_TIME, flagged & VELOCITY_AND_TIME


def test_new_pattern_fraud_is_added_but_moves_no_feature_distribution(work: Path) -> None:
    payments = scenario(work, "new-pattern").payments
    assert (payments["fraud_pattern"] == "atm_night_abroad").sum() > 20
    for report in reports(work, "new-pattern"):
        assert flagged_features(report) == set()
