"""Per-segment figures of a report equal a direct pandas computation over the same events."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from events import DRIFT_REPORT, LABEL, PREDICTION, Decision
from services.core.monitoring.bias import disparity
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor
from tests.unit.monitor.streams import T0, closing_prediction, model_reference, stream

pytestmark = pytest.mark.unit
MIN_COUNT, MIN_LABELED = 300, 40


def _frame(events: list[Any]) -> pd.DataFrame:
    predictions = pd.DataFrame(
        [
            {
                "payment_id": e.data.input_id,
                "time": e.time,
                "flagged": e.data.decision is not Decision.APPROVE,
                **e.data.segment,
            }
            for e in events
            if e.type == PREDICTION
        ]
    )
    labels = pd.DataFrame(
        [{"payment_id": e.data.payment_id, "label": e.data.is_fraud} for e in events if e.type == LABEL]
    )
    return predictions.merge(labels, on="payment_id", how="left")


def _expected(window: pd.DataFrame, attribute: str) -> tuple[pd.DataFrame, dict[str, float | None]]:
    labeled = window.dropna(subset=["label"])
    figures = pd.DataFrame(
        {
            "count": window.groupby(attribute).size(),
            "flag_rate": window.groupby(attribute)["flagged"].mean(),
            "negatives": labeled[labeled.label == 0].groupby(attribute).size(),
            "positives": labeled[labeled.label == 1].groupby(attribute).size(),
            "fpr": labeled[labeled.label == 0].groupby(attribute)["flagged"].mean(),
            "tpr": labeled[labeled.label == 1].groupby(attribute)["flagged"].mean(),
        }
    )
    ratios = {
        "flag_rate": disparity(figures.loc[figures["count"] >= MIN_COUNT, "flag_rate"].tolist()),
        "fpr": disparity(figures.loc[figures["negatives"] >= MIN_LABELED, "fpr"].tolist()),
        "tpr": disparity(figures.loc[figures["positives"] >= MIN_LABELED, "tpr"].tolist()),
    }
    return figures, ratios


SEGMENTS = [("FR", "credit"), ("DE", "debit"), ("ES", "prepaid"), ("IT", "credit")]


def _resegmented(event: Any, rng: np.random.Generator) -> Any:
    """Segments that matter: flagged predictions go to ES/prepaid more often."""
    if event.type != PREDICTION:
        return event
    weights = [0.2, 0.2, 0.5, 0.1] if event.data.decision is not Decision.APPROVE else [0.3, 0.3, 0.1, 0.3]
    country, card_type = SEGMENTS[int(rng.choice(len(SEGMENTS), p=weights))]
    segment = {"country": country, "card_type": card_type, "merchant_category": "5411"}
    return replace(event, data=event.data.model_copy(update={"segment": segment}))


def test_segment_figures_equal_pandas() -> None:
    rng = np.random.default_rng(0)
    events = [_resegmented(event, rng) for event in stream(3, 1500, seed=21, label_share=0.6)]
    config = MonitorConfig(
        window_sizes_s=(300,),
        segment_min_count=MIN_COUNT,
        segment_min_labeled=MIN_LABELED,
        allowed_lateness_s=0,
    )
    monitor = Monitor(model_reference(), config, source="//tests/monitor", clock=lambda: T0)
    for event in [*events, closing_prediction(3 * 300 + 10)]:
        monitor.observe(event)
    reports = [event.data for event in monitor.outbox if event.type == DRIFT_REPORT]
    frame = _frame(events)
    assert len(reports) == 3
    for report in reports:
        window = frame[(frame.time >= report.window.start) & (frame.time < report.window.end)]
        assert set(report.bias) == {"country", "card_type"}  # the configured attributes only
        for attribute, bias in report.bias.items():
            figures, ratios = _expected(window, attribute)
            assert sorted(bias.values) == sorted(figures.index)
            for value, actual in bias.values.items():
                row = figures.loc[value].fillna({"negatives": 0, "positives": 0})
                assert actual.count == row["count"]
                assert actual.flag_rate == pytest.approx(row["flag_rate"])
                assert (actual.negatives, actual.positives) == (row["negatives"], row["positives"])
                assert actual.fpr == pytest.approx(None if pd.isna(row["fpr"]) else row["fpr"])
                assert actual.tpr == pytest.approx(None if pd.isna(row["tpr"]) else row["tpr"])
            assert bias.flag_rate_disparity == pytest.approx(ratios["flag_rate"])
            assert bias.fpr_disparity == pytest.approx(ratios["fpr"])
            assert bias.tpr_disparity == pytest.approx(ratios["tpr"])
        assert report.bias["country"].flag_rate_disparity is not None
        assert report.bias["country"].flag_rate_disparity < 0.8  # the segments do differ


def test_disparity_definition() -> None:
    assert disparity([0.2, 0.1, 0.4]) == 0.25
    assert disparity([0.3]) is None
    assert disparity([0.0, 0.0]) == 1.0
    assert disparity([0.0, 0.5]) == 0.0
