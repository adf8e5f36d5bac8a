"""The registry of event types: name, payload model and schema URI of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.comparison import ModelComparison, PromotionVerdict
from events.contract import Contract
from events.deadletter_payload import DeadLetter
from events.drift import DriftReport
from events.drift_alert import DriftAlert
from events.label import Label
from events.payment import Payment
from events.scoring import Explanation, Prediction, ShadowPrediction

PAYMENT_AUTHORIZED = "dev.rtinfer.payment.authorized.v1"
PREDICTION = "dev.rtinfer.prediction.v1"
EXPLANATION = "dev.rtinfer.explanation.v1"
SHADOW_PREDICTION = "dev.rtinfer.prediction.shadow.v1"
DEADLETTER = "dev.rtinfer.deadletter.v2"
LABEL = "dev.rtinfer.label.v1"
DRIFT_REPORT = "dev.rtinfer.drift.report.v1"
DRIFT_ALERT = "dev.rtinfer.drift.alert.v1"
COMPARISON_REPORT = "dev.rtinfer.comparison.report.v1"
PROMOTION_VERDICT = "dev.rtinfer.promotion.verdict.v1"

# An identifier (the JSON Schema `$id`), never fetched at run time.
SCHEMA_BASE_URI = "https://rtinfer.dev/schemas/"


@dataclass(frozen=True, slots=True)
class EventType:
    """One CloudEvents `type`: its payload contract and where its schema is named.

    `subject_field` names the payload field the CloudEvents `subject` must equal, if any.
    `time_field` is the dotted path of the payload's own timestamp, if it has one: the event
    time of an event that comes without a `time` attribute.
    """

    name: str
    payload: type[Contract]
    description: str
    subject_field: str | None = None
    time_field: str | None = None

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_BASE_URI}{self.name}.json"

    def payload_time(self, payload: Contract) -> datetime | None:
        """The payload's own timestamp (`time_field`), or None when the type has none."""
        if self.time_field is None:
            return None
        value: object = payload
        for name in self.time_field.split("."):
            value = getattr(value, name)
        return value if isinstance(value, datetime) else None


EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (
        EventType(
            PAYMENT_AUTHORIZED, Payment, "a card payment was authorized; input", "card_id", "timestamp"
        ),
        EventType(PREDICTION, Prediction, "a model scored an input event"),
        EventType(EXPLANATION, Explanation, "feature attributions of one prediction"),
        EventType(
            SHADOW_PREDICTION,
            ShadowPrediction,
            "a champion's or challenger's score that did not decide (shadow or canary scoring)",
        ),
        EventType(
            DEADLETTER, DeadLetter, "an input that could not be processed, kept whole", None, "first_seen"
        ),
        EventType(
            LABEL,
            Label,
            "the confirmed outcome of a payment, known late (chargeback)",
            "card_id",
            "label_time",
        ),
        EventType(
            DRIFT_REPORT, DriftReport, "drift, performance and bias of one window", "model_name", "window.end"
        ),
        EventType(
            DRIFT_ALERT,
            DriftAlert,
            "a monitoring threshold crossed in one window",
            "model_name",
            "window.end",
        ),
        EventType(
            COMPARISON_REPORT,
            ModelComparison,
            "a champion and a challenger compared on the same labelled inputs of one window",
            "challenger_name",
            "window.end",
        ),
        EventType(
            PROMOTION_VERDICT,
            PromotionVerdict,
            "promote, keep or not enough evidence: a challenger judged in one window",
            "challenger_name",
            "window.end",
        ),
    )
}

_BY_PAYLOAD = {event_type.payload: event_type for event_type in EVENT_TYPES.values()}


def event_type_of(payload: Contract) -> EventType:
    """The registered type whose payload model `payload` is an instance of."""
    try:
        return _BY_PAYLOAD[type(payload)]
    except KeyError:
        raise ValueError(f"{type(payload).__name__} is not a registered payload") from None
