"""Event contracts of rtinfer: CloudEvents types, payload models, Kafka and HTTP bindings.

Contracts only: nothing here does network or file I/O.
"""

from events.build import explanation_event, new_payment_event, prediction_event
from events.deadletter import RawInput, dead_letter_event
from events.deadletter_payload import DeadLetter, HttpOrigin, KafkaOrigin, Origin
from events.envelope import Event, EventError
from events.http_binding import decode_http, encode_http, encode_http_batch
from events.ids import deadletter_id, explanation_id, prediction_id
from events.kafka_binding import KafkaRecord, decode_kafka, encode_kafka
from events.payment import CardType, Channel, Payment
from events.reasons import ReasonCode
from events.results import Decoded, DecodeFailure, Mode
from events.scoring import (
    Decision,
    Degraded,
    ExplainReason,
    Explanation,
    FeatureUse,
    Neighbour,
    Prediction,
    TopContribution,
)
from events.types import (
    DEADLETTER,
    EVENT_TYPES,
    EXPLANATION,
    PAYMENT_AUTHORIZED,
    PREDICTION,
    EventType,
)

__all__ = [
    "DEADLETTER",
    "EVENT_TYPES",
    "EXPLANATION",
    "PAYMENT_AUTHORIZED",
    "PREDICTION",
    "CardType",
    "Channel",
    "DeadLetter",
    "Decision",
    "DecodeFailure",
    "Decoded",
    "Degraded",
    "Event",
    "EventError",
    "EventType",
    "ExplainReason",
    "Explanation",
    "FeatureUse",
    "HttpOrigin",
    "KafkaOrigin",
    "KafkaRecord",
    "Mode",
    "Neighbour",
    "Origin",
    "Payment",
    "Prediction",
    "RawInput",
    "ReasonCode",
    "TopContribution",
    "dead_letter_event",
    "deadletter_id",
    "decode_http",
    "decode_kafka",
    "encode_http",
    "encode_http_batch",
    "encode_kafka",
    "explanation_event",
    "explanation_id",
    "new_payment_event",
    "prediction_event",
    "prediction_id",
]
