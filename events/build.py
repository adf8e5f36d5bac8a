"""Constructors for the events rtinfer produces; ids are derived, never random."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.envelope import Event
from events.ids import explanation_id, prediction_id
from events.payment import Payment
from events.scoring import Explanation, Prediction
from events.types import EXPLANATION, PAYMENT_AUTHORIZED, PREDICTION, event_type_of


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
        partitionkey=input_event.partitionkey,
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
