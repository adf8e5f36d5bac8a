"""Payload rules, envelope invariants, constructors and deterministic ids."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from events import (
    Decision,
    Event,
    EventError,
    ExplainReason,
    Explanation,
    Payment,
    Prediction,
    ReasonCode,
    explanation_event,
    explanation_id,
    prediction_event,
    prediction_id,
)
from events.testing import sample_payment, sample_payment_event

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 1, 12, 0, 1, tzinfo=UTC)


def _prediction(input_event: Event[Any], **changes: Any) -> Prediction:
    fields: dict[str, Any] = {
        "input_id": input_event.id,
        "input_source": input_event.source,
        "entity": {"card_id": "card-42", "merchant_id": "m-7"},
        "score": 0.91,
        "decision": Decision.DECLINE,
        "threshold": 0.8,
        "model_name": "fraud-gbm",
        "model_version": "7",
    }
    return Prediction(**(fields | changes))


def _explanation(prediction: Event[Prediction], **changes: Any) -> Explanation:
    fields: dict[str, Any] = {
        "prediction_id": prediction.id,
        "input_id": prediction.data.input_id,
        "model_name": "fraud-gbm",
        "model_version": "7",
        "score": 0.91,
        "base_value": -2.0,
        "contributions": {"amount": 1.5, "velocity_1h": -2.5, "country_risk": 0.1},
        "top": [
            {"feature": "velocity_1h", "contribution": -2.5, "value": 9.0},
            {"feature": "amount", "contribution": 1.5, "value": 420.0},
        ],
        "reason": ExplainReason.FLAGGED,
    }
    return Explanation.model_validate_json(_json(fields | changes))


def _json(fields: dict[str, Any]) -> str:
    return json.dumps(fields)


def test_payment_parses_iso_timestamps_from_json_in_strict_mode() -> None:
    payment = Payment.model_validate_json(sample_payment().model_dump_json())
    assert payment == sample_payment()
    assert payment.timestamp.utcoffset() == timedelta(0)


def test_payment_rejects_a_naive_timestamp_from_python_too() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        sample_payment(timestamp=datetime(2025, 3, 1, 12, 0))  # noqa: DTZ001 - the point of the test


def test_payment_keeps_the_offset_it_was_given() -> None:
    paris = timezone(timedelta(hours=1))
    payment = sample_payment(timestamp=datetime(2025, 3, 1, 13, 0, tzinfo=paris))
    assert Payment.model_validate_json(payment.model_dump_json()).timestamp.utcoffset() == timedelta(hours=1)


def test_payment_is_strict_and_frozen() -> None:
    with pytest.raises(ValidationError):
        sample_payment(channel="pos")  # strict: the enum member, not its value, in Python
    with pytest.raises(ValidationError):
        sample_payment().amount = 1.0  # type: ignore[misc]


def test_integers_are_accepted_as_amounts() -> None:
    raw = sample_payment().model_dump_json().replace('"amount":42.5', '"amount":42')
    assert Payment.model_validate_json(raw).amount == 42.0


def test_payment_event_uses_the_payment_identity() -> None:
    event = sample_payment_event()
    assert (event.id, event.subject, event.partitionkey) == ("pay-0001", "card-42", "card-42")
    assert event.time == event.data.timestamp
    assert event.dataschema == "https://rtinfer.dev/schemas/dev.rtinfer.payment.authorized.v1.json"


def test_prediction_event_links_to_its_input_deterministically() -> None:
    payment = sample_payment_event()
    event = prediction_event(payment, _prediction(payment), source="//scorer", time=NOW)
    assert event.causationid == payment.id
    assert event.id == prediction_id(payment.source, payment.id, "7")
    assert (event.subject, event.partitionkey) == (payment.subject, payment.partitionkey)
    again = prediction_event(payment, _prediction(payment), source="//scorer", time=NOW + timedelta(1))
    assert again.id == event.id


def test_prediction_ids_differ_by_source_id_and_model_version() -> None:
    ids = {
        prediction_id("//a", "1", "7"),
        prediction_id("//b", "1", "7"),
        prediction_id("//a", "2", "7"),
        prediction_id("//a", "1", "8"),
        prediction_id("//a\n1", "", "7"),
    }
    assert len(ids) == 5
    assert prediction_id("//a", "1", "7") == prediction_id("//a", "1", "7")


def test_prediction_event_refuses_a_prediction_of_another_input() -> None:
    payment = sample_payment_event()
    with pytest.raises(ValueError, match="input"):
        prediction_event(payment, _prediction(payment, input_id="other"), source="//scorer", time=NOW)


def test_explanation_event_links_to_its_prediction() -> None:
    payment = sample_payment_event()
    prediction = prediction_event(payment, _prediction(payment), source="//scorer", time=NOW)
    event = explanation_event(prediction, _explanation(prediction), source="//explainer", time=NOW)
    assert event.id == explanation_id(prediction.id) != prediction.id
    assert event.causationid == prediction.id


def test_explanation_top_must_be_ranked_and_match_contributions() -> None:
    payment = sample_payment_event()
    prediction = prediction_event(payment, _prediction(payment), source="//scorer", time=NOW)
    ranked_wrong = [
        {"feature": "amount", "contribution": 1.5},
        {"feature": "velocity_1h", "contribution": -2.5},
    ]
    with pytest.raises(ValidationError, match="ranked"):
        _explanation(prediction, top=ranked_wrong)
    with pytest.raises(ValidationError, match="does not match"):
        _explanation(prediction, top=[{"feature": "amount", "contribution": 9.0}])


@pytest.mark.parametrize(
    ("changes", "reason", "attribute"),
    [
        ({"specversion": "0.3"}, ReasonCode.BAD_SPECVERSION, "specversion"),
        ({"id": ""}, ReasonCode.BAD_ATTRIBUTE, "id"),
        ({"type": "dev.rtinfer.unknown.v1"}, ReasonCode.UNKNOWN_TYPE, "type"),
        ({"time": datetime(2025, 1, 1)}, ReasonCode.BAD_ATTRIBUTE, "time"),  # noqa: DTZ001
        ({"subject": "card-1"}, ReasonCode.HEADER_BODY_CONFLICT, "subject"),
        ({"datacontenttype": "text/plain"}, ReasonCode.BAD_CONTENT_TYPE, "datacontenttype"),
        ({"extensions": {"Region": "eu"}}, ReasonCode.BAD_ATTRIBUTE, "Region"),
        ({"extensions": {"id": "x"}}, ReasonCode.BAD_ATTRIBUTE, "id"),
        ({"traceparent": ""}, ReasonCode.BAD_ATTRIBUTE, "traceparent"),
        ({"type": "dev.rtinfer.prediction.v1"}, ReasonCode.INVALID_PAYLOAD, "data"),
    ],
)
def test_an_invalid_envelope_cannot_be_built(
    changes: dict[str, Any], reason: ReasonCode, attribute: str
) -> None:
    with pytest.raises(EventError) as caught:
        replace(sample_payment_event(), **changes)
    assert (caught.value.reason, caught.value.attribute) == (reason, attribute)
