"""Label, drift report and drift alert events: payload rules, constructors and derived ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from events import (
    DRIFT_ALERT,
    DRIFT_REPORT,
    LABEL,
    Decoded,
    DriftAlert,
    DriftReport,
    Label,
    MonitorWindow,
    Performance,
    WindowCounts,
    decode_kafka,
    drift_alert_event,
    drift_report_event,
    encode_kafka,
    label_event,
    label_id,
)

pytestmark = pytest.mark.unit

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = MonitorWindow(start=START, end=START + timedelta(seconds=300), size_s=300)


def _label(**changes: Any) -> Label:
    fields: dict[str, Any] = {
        "payment_id": "pay-1",
        "card_id": "card-42",
        "is_fraud": 1,
        "label_time": datetime(2025, 3, 20, 9, 30, tzinfo=timezone(timedelta(hours=1))),
        "reason": "10.4",
    }
    return Label(**(fields | changes))


def _alert(**changes: Any) -> DriftAlert:
    fields: dict[str, Any] = {
        "window": WINDOW,
        "model_name": "fraud",
        "model_version": "7",
        "metric": "feature_psi",
        "feature": "amount",
        "value": 0.42,
        "threshold": 0.2,
        "direction": "above",
        "message": "PSI of feature amount is 0.420, above 0.2",
    }
    return DriftAlert(**(fields | changes))


def _report(**changes: Any) -> DriftReport:
    fields: dict[str, Any] = {
        "window": WINDOW,
        "model_name": "fraud",
        "model_version": "7",
        "counts": WindowCounts(
            predictions=10, explanations=2, flagged=1, duplicates=0, late=0, other_model=0
        ),
        "performance": Performance(window=WINDOW, labeled=0, positives=0),
        "alerts": [_alert()],
    }
    return DriftReport(**(fields | changes))


def test_label_event_is_keyed_by_card_and_caused_by_the_payment() -> None:
    event = label_event(_label(), source="//chargebacks")
    assert event.type == LABEL
    assert (event.subject, event.partitionkey, event.causationid) == ("card-42", "card-42", "pay-1")
    assert event.time == _label().label_time
    assert event.id == label_id("pay-1", _label().label_time, 1)
    assert event.id != label_event(_label(is_fraud=0), source="//chargebacks").id
    same_instant = _label(label_time=_label().label_time.astimezone(UTC))
    assert label_event(same_instant, source="//other").id == event.id


@pytest.mark.parametrize(
    "change",
    [{"is_fraud": 2}, {"label_time": datetime(2025, 3, 1)}, {"payment_id": ""}, {"extra": 1}],  # noqa: DTZ001
)
def test_label_rules(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _label(**change)


def test_window_must_be_consistent() -> None:
    with pytest.raises(ValidationError, match="size_s"):
        MonitorWindow(start=START, end=START + timedelta(seconds=60), size_s=300)


def test_report_and_alert_events_are_derived_and_linked() -> None:
    report = drift_report_event(_report(), source="//monitor")
    assert report.type == DRIFT_REPORT
    assert report.time == WINDOW.end and report.subject == report.partitionkey == "fraud"
    assert drift_report_event(_report(alerts=[]), source="//elsewhere").id == report.id  # id = model + window
    alert = drift_alert_event(report, _alert(), source="//monitor")
    assert alert.type == DRIFT_ALERT and alert.causationid == report.id and alert.time == report.time
    other = drift_alert_event(report, _alert(feature="velocity_1h"), source="//monitor")
    assert other.id != alert.id
    later = MonitorWindow(start=WINDOW.end, end=WINDOW.end + timedelta(seconds=300), size_s=300)
    with pytest.raises(ValueError, match="report"):
        drift_alert_event(report, _alert(window=later), source="//monitor")


def test_report_round_trips_through_kafka() -> None:
    event = drift_report_event(_report(), source="//monitor")
    record = encode_kafka(event)
    decoded = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(decoded, Decoded)
    assert decoded.event == event
