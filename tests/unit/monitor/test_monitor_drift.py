"""Alerts on synthetic streams: none without drift, and each drift kind flagged where it happens.

Windows of 300 s with 3000 predictions (2000 in the drift cases); 20 % are explained and all are
labeled. Each drift starts in the middle of window 2 and is flagged, on the drifted thing only,
no later than window 3 (the first window wholly drifted), and in every window after it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
import pytest

from events import DRIFT_ALERT, DRIFT_REPORT, LABEL, Event
from events.drift import DriftReport
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor
from tests.unit.monitor.streams import FEATURES, T0, Drift, closing_prediction, model_reference, stream

pytestmark = pytest.mark.unit
SIZE_S = 300
DRIFT_WINDOW = 2
DRIFT_START_S = DRIFT_WINDOW * SIZE_S + SIZE_S / 2
WINDOWS = 6


def run(events: list[Event[Any]], windows: int, **config: Any) -> list[Event[Any]]:
    monitor = Monitor(
        model_reference(),
        MonitorConfig(**({"window_sizes_s": (SIZE_S,)} | config)),
        source="//tests/monitor",
        clock=lambda: T0,
    )
    for event in [*events, closing_prediction(windows * SIZE_S + 3600)]:
        monitor.observe(event)
    return monitor.outbox


def reports_of(outbox: list[Event[Any]]) -> list[DriftReport]:
    return [event.data for event in outbox if event.type == DRIFT_REPORT]


def flagged(report: DriftReport) -> set[tuple[str, str | None]]:
    return {(alert.metric, alert.feature or alert.segment) for alert in report.alerts}


@cache
def drift_reports(kind: str) -> tuple[DriftReport, ...]:
    drift = {
        "feature": Drift(DRIFT_START_S, amount_scale=2.5),
        "score": Drift(DRIFT_START_S, score_shift=True),
        "attribution": Drift(DRIFT_START_S, attribution_feature="velocity_1h"),
    }[kind]
    return tuple(reports_of(run(stream(WINDOWS, 2000, seed=5, drift=drift), WINDOWS)))


def test_an_undrifted_stream_raises_no_alert_over_20_windows() -> None:
    outbox = run(stream(20, 3000, seed=1), 20)
    reports = reports_of(outbox)
    assert len(reports) == 20
    assert [report.alerts for report in reports] == [[]] * 20
    assert not [event for event in outbox if event.type == DRIFT_ALERT]
    for report in reports:  # every figure was computed, not skipped
        assert report.counts.predictions > 2500 and report.counts.explanations > 400
        assert set(report.features) == set(FEATURES)
        assert report.performance.roc_auc is not None and report.performance.roc_auc > 0.8
        assert all(bias.fpr_disparity is not None for bias in report.bias.values())


def test_a_shifted_feature_is_flagged_and_no_other_feature_is() -> None:
    reports = drift_reports("feature")
    for index, report in enumerate(reports):
        feature_alerts = {feature for metric, feature in flagged(report) if metric == "feature_psi"}
        assert feature_alerts == ({"amount"} if index > DRIFT_WINDOW else set()) or (
            index == DRIFT_WINDOW and feature_alerts <= {"amount"}
        )
        assert ("score_psi", None) not in flagged(report)
    assert reports[DRIFT_WINDOW + 1].features["amount"].psi > 0.5


def test_shifted_scores_are_flagged_and_no_feature_is() -> None:
    reports = drift_reports("score")
    for index, report in enumerate(reports):
        metrics = {metric for metric, _ in flagged(report)}
        assert "feature_psi" not in metrics
        if index > DRIFT_WINDOW:
            assert "score_psi" in metrics
        elif index < DRIFT_WINDOW:
            assert metrics == set()


def test_shifted_attributions_are_flagged_on_that_feature_only() -> None:
    reports = drift_reports("attribution")
    for index, report in enumerate(reports):
        attribution = {
            (feature, metric) for metric, feature in flagged(report) if metric == "attribution_ratio"
        }
        if index > DRIFT_WINDOW:
            assert attribution == {("velocity_1h", "attribution_ratio")}
            assert report.attribution["velocity_1h"].ratio == pytest.approx(3.0, rel=0.15)
        elif index < DRIFT_WINDOW:
            assert attribution == set()
        assert {metric for metric, _ in flagged(report)} <= {"attribution_ratio"}


def test_alert_events_link_to_their_report() -> None:
    outbox = run(stream(WINDOWS, 2000, seed=5, drift=Drift(DRIFT_START_S, amount_scale=2.5)), WINDOWS)
    report_ids = {event.id for event in outbox if event.type == DRIFT_REPORT}
    alerts = [event for event in outbox if event.type == DRIFT_ALERT]
    assert alerts and all(alert.causationid in report_ids for alert in alerts)
    assert len({alert.id for alert in alerts}) == len(alerts)
    for alert in alerts:
        [report] = [event.data for event in outbox if event.id == alert.causationid]
        assert alert.data in report.alerts


def test_auc_floor_alert_when_the_model_stops_ranking() -> None:
    coin = np.random.default_rng(3)
    # Labels from a coin flip: the scores no longer rank fraud first.
    events = [
        replace(event, data=event.data.model_copy(update={"is_fraud": int(coin.integers(0, 2))}))
        if event.type == LABEL
        else event
        for event in stream(3, 2000, seed=9)
    ]
    reports = reports_of(run(events, 3))
    assert all(("roc_auc", None) in flagged(report) for report in reports)
    assert all(
        report.performance.roc_auc is not None and report.performance.roc_auc < 0.6 for report in reports
    )
