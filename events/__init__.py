"""Event contracts of rtinfer: CloudEvents types, payload models, Kafka and HTTP bindings.

Contracts only: nothing here does network or file I/O.
"""

from events.build import (
    drift_alert_event,
    drift_report_event,
    explanation_event,
    label_event,
    new_payment_event,
    prediction_event,
)
from events.deadletter import dead_letter_event, original_input
from events.deadletter_payload import (
    DeadLetter,
    HttpOrigin,
    KafkaOrigin,
    Origin,
    OriginalHeader,
    RawInput,
    Truncation,
)
from events.drift import (
    AttributionDrift,
    DriftReport,
    FeatureDrift,
    Performance,
    ScoreDrift,
    SegmentBias,
    SegmentFigures,
    WindowCounts,
)
from events.drift_alert import AlertMetric, DriftAlert, MonitorWindow
from events.envelope import Event, EventError, TimeSource
from events.http_binding import decode_http, encode_http, encode_http_batch
from events.ids import (
    deadletter_id,
    drift_alert_id,
    drift_report_id,
    explanation_id,
    label_id,
    prediction_id,
)
from events.kafka_binding import KafkaRecord, decode_kafka, encode_kafka
from events.label import Label
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
    DRIFT_ALERT,
    DRIFT_REPORT,
    EVENT_TYPES,
    EXPLANATION,
    LABEL,
    PAYMENT_AUTHORIZED,
    PREDICTION,
    EventType,
)

__all__ = [
    "DEADLETTER",
    "DRIFT_ALERT",
    "DRIFT_REPORT",
    "EVENT_TYPES",
    "EXPLANATION",
    "LABEL",
    "PAYMENT_AUTHORIZED",
    "PREDICTION",
    "AlertMetric",
    "AttributionDrift",
    "CardType",
    "Channel",
    "DeadLetter",
    "Decision",
    "DecodeFailure",
    "Decoded",
    "Degraded",
    "DriftAlert",
    "DriftReport",
    "Event",
    "EventError",
    "EventType",
    "ExplainReason",
    "Explanation",
    "FeatureDrift",
    "FeatureUse",
    "HttpOrigin",
    "KafkaOrigin",
    "KafkaRecord",
    "Label",
    "Mode",
    "MonitorWindow",
    "Neighbour",
    "Origin",
    "OriginalHeader",
    "Payment",
    "Performance",
    "Prediction",
    "RawInput",
    "ReasonCode",
    "ScoreDrift",
    "SegmentBias",
    "SegmentFigures",
    "TimeSource",
    "TopContribution",
    "Truncation",
    "WindowCounts",
    "dead_letter_event",
    "deadletter_id",
    "decode_http",
    "decode_kafka",
    "drift_alert_event",
    "drift_alert_id",
    "drift_report_event",
    "drift_report_id",
    "encode_http",
    "encode_http_batch",
    "encode_kafka",
    "explanation_event",
    "explanation_id",
    "label_event",
    "label_id",
    "new_payment_event",
    "original_input",
    "prediction_event",
    "prediction_id",
]
