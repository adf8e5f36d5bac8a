"""Constructors for the events rtinfer produces; ids are derived, never random."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.comparison import ModelComparison, PromotionVerdict
from events.drift import DriftReport
from events.drift_alert import DriftAlert
from events.envelope import Event
from events.ids import (
    comparison_report_id,
    drift_alert_id,
    drift_report_id,
    explanation_id,
    label_id,
    prediction_id,
    promotion_verdict_id,
    shadow_prediction_id,
)
from events.label import Label
from events.payment import Payment
from events.scoring import Explanation, Prediction, ShadowPrediction
from events.types import (
    COMPARISON_REPORT,
    DRIFT_ALERT,
    DRIFT_REPORT,
    EXPLANATION,
    LABEL,
    PAYMENT_AUTHORIZED,
    PREDICTION,
    PROMOTION_VERDICT,
    SHADOW_PREDICTION,
    event_type_of,
)


def new_payment_event(
    payment: Payment,
    *,
    source: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> Event[Payment]:
    """The input event of one payment: id = payment_id, time = payment.timestamp,
    subject and partition key = card_id (so one card's payments stay in order)."""
    return Event(
        id=payment.payment_id,
        source=source,
        type=PAYMENT_AUTHORIZED,
        time=payment.timestamp,
        subject=payment.card_id,
        dataschema=event_type_of(payment).dataschema,
        partitionkey=payment.card_id,
        traceparent=traceparent,
        tracestate=tracestate,
        data=payment,
    )


def shadow_prediction_event(
    prediction: Event[Prediction], shadow: ShadowPrediction, *, source: str, time: datetime
) -> Event[ShadowPrediction]:
    """A shadow score beside `prediction`, linked to it by causationid (and to its input by
    `input_id`); same subject, partition key and trace as the prediction."""
    if shadow.prediction_id != prediction.id or shadow.input_id != prediction.data.input_id:
        raise ValueError("shadow.prediction_id/input_id must name the deciding prediction and its input")
    return Event(
        id=shadow_prediction_id(prediction.id, shadow.model_name, shadow.model_version),
        source=source,
        type=SHADOW_PREDICTION,
        time=time,
        subject=prediction.subject,
        dataschema=event_type_of(shadow).dataschema,
        partitionkey=prediction.partitionkey,
        traceparent=prediction.traceparent,
        tracestate=prediction.tracestate,
        causationid=prediction.id,
        data=shadow,
    )


def prediction_event(
    input_event: Event[Any],
    prediction: Prediction,
    *,
    source: str,
    time: datetime,
    traceparent: str | None = None,
) -> Event[Prediction]:
    """The prediction for `input_event`, linked to it by causationid.

    Args:
        time: when the prediction was made (from the injected clock).
        traceparent: the span of the scoring stage; defaults to the input's.
    """
    if (prediction.input_id, prediction.input_source) != (input_event.id, input_event.source):
        raise ValueError("prediction.input_id/input_source must name the input event")
    return Event(
        id=prediction_id(input_event.source, input_event.id, prediction.model_version),
        source=source,
        type=PREDICTION,
        time=time,
        subject=input_event.subject,
        dataschema=event_type_of(prediction).dataschema,
        partitionkey=input_event.partitionkey or input_event.subject,  # push mode may drop the key
        traceparent=traceparent or input_event.traceparent,
        tracestate=input_event.tracestate,
        causationid=input_event.id,
        data=prediction,
    )


def explanation_event(
    prediction: Event[Prediction],
    explanation: Explanation,
    *,
    source: str,
    time: datetime,
    traceparent: str | None = None,
) -> Event[Explanation]:
    """The explanation of `prediction`; causationid is the prediction's id."""
    if explanation.prediction_id != prediction.id or explanation.input_id != prediction.data.input_id:
        raise ValueError("explanation.prediction_id/input_id must name the prediction and its input")
    return Event(
        id=explanation_id(prediction.id),
        source=source,
        type=EXPLANATION,
        time=time,
        subject=prediction.subject,
        dataschema=event_type_of(explanation).dataschema,
        partitionkey=prediction.partitionkey,
        traceparent=traceparent or prediction.traceparent,
        tracestate=prediction.tracestate,
        causationid=prediction.id,
        data=explanation,
    )


def label_event(label: Label, *, source: str) -> Event[Label]:
    """The event of one label: time = label_time, subject and partition key = card_id (like the
    payment it labels), causationid = payment_id (the prediction's causationid too)."""
    return Event(
        id=label_id(label.payment_id, label.label_time, label.is_fraud),
        source=source,
        type=LABEL,
        time=label.label_time,
        subject=label.card_id,
        dataschema=event_type_of(label).dataschema,
        partitionkey=label.card_id,
        causationid=label.payment_id,
        data=label,
    )


def drift_report_event(report: DriftReport, *, source: str) -> Event[DriftReport]:
    """The event of one window's report: time = window end, subject and partition key = model name."""
    window = report.window
    return Event(
        id=drift_report_id(report.model_name, report.model_version, window.start, window.size_s),
        source=source,
        type=DRIFT_REPORT,
        time=window.end,
        subject=report.model_name,
        dataschema=event_type_of(report).dataschema,
        partitionkey=report.model_name,
        data=report,
    )


def drift_alert_event(report: Event[DriftReport], alert: DriftAlert, *, source: str) -> Event[DriftAlert]:
    """One alert of `report`; causationid is the report's id."""
    if (alert.window, alert.model_name, alert.model_version) != (
        report.data.window,
        report.data.model_name,
        report.data.model_version,
    ):
        raise ValueError("alert.window/model_name/model_version must equal the report's")
    return Event(
        id=drift_alert_id(report.id, alert.metric, alert.feature or alert.segment or ""),
        source=source,
        type=DRIFT_ALERT,
        time=report.time,
        subject=alert.model_name,
        dataschema=event_type_of(alert).dataschema,
        partitionkey=alert.model_name,
        causationid=report.id,
        data=alert,
    )


def comparison_report_event(report: ModelComparison, *, source: str) -> Event[ModelComparison]:
    """The event of one window's comparison: time = window end, subject and partition key =
    the challenger's name (one challenger's reports stay in order)."""
    window = report.window
    return Event(
        id=comparison_report_id(
            (report.champion_name, report.champion_version),
            (report.challenger_name, report.challenger_version),
            window.start,
            window.size_s,
        ),
        source=source,
        type=COMPARISON_REPORT,
        time=window.end,
        subject=report.challenger_name,
        dataschema=event_type_of(report).dataschema,
        partitionkey=report.challenger_name,
        data=report,
    )


def promotion_verdict_event(report: Event[ModelComparison], *, source: str) -> Event[PromotionVerdict]:
    """The verdict carried by `report`, as an event of its own; causationid is the report's id."""
    verdict = report.data.verdict
    return Event(
        id=promotion_verdict_id(report.id),
        source=source,
        type=PROMOTION_VERDICT,
        time=report.time,
        subject=verdict.challenger_name,
        dataschema=event_type_of(verdict).dataschema,
        partitionkey=verdict.challenger_name,
        causationid=report.id,
        data=verdict,
    )
