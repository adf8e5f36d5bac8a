"""Deterministic event ids: replaying an input yields the same output ids (idempotent sinks)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from events.deadletter_payload import HttpOrigin, KafkaOrigin

# Fixed forever: changing it changes every derived id.
NAMESPACE = uuid.UUID("6f1c1d2e-5b0a-5c8e-9a43-2f7d0e3b8a51")


def _derive(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\n".join(parts)))


def prediction_id(input_source: str, input_id: str, model_version: str) -> str:
    """Id of the prediction a model version makes for one input event."""
    return _derive(input_source, input_id, model_version)


def shadow_prediction_id(prediction_id: str, model_name: str, model_version: str) -> str:
    """Id of the shadow score one model made beside the deciding prediction."""
    return _derive("shadow", prediction_id, model_name, model_version)


def explanation_id(prediction_id: str) -> str:
    """Id of the explanation of one prediction."""
    return _derive("explanation", prediction_id)


def deadletter_id(origin: KafkaOrigin | HttpOrigin, stage: str, original: bytes) -> str:
    """Id of the dead letter for one original record failing at one stage.

    Kafka records are identified by topic, partition and offset; HTTP requests, which
    have no position, by path, a digest of the original bytes and, in a batch, the item's index.
    """
    if isinstance(origin, KafkaOrigin):
        return _derive("deadletter", "kafka", origin.topic, str(origin.partition), str(origin.offset), stage)
    digest = hashlib.sha256(original).hexdigest()
    if origin.item is not None:  # equal items of one batch are distinct inputs
        return _derive("deadletter", "http", origin.path or "", stage, digest, f"item {origin.item}")
    return _derive("deadletter", "http", origin.path or "", stage, digest)


def label_id(payment_id: str, label_time: datetime, is_fraud: int) -> str:
    """Id of one label of a payment; a corrected label (another time or value) gets another id."""
    return _derive("label", payment_id, label_time.astimezone(UTC).isoformat(), str(is_fraud))


def drift_report_id(model_name: str, model_version: str, window_start: datetime, size_s: int) -> str:
    """Id of the drift report of one window: a re-emitted report keeps its id."""
    return _derive(
        "drift-report", model_name, model_version, window_start.astimezone(UTC).isoformat(), str(size_s)
    )


def drift_alert_id(report_id: str, metric: str, subject: str) -> str:
    """Id of one alert of a report; `subject` is the feature or segment attribute ("" for none)."""
    return _derive("drift-alert", report_id, metric, subject)


def comparison_report_id(
    champion: tuple[str, str], challenger: tuple[str, str], window_start: datetime, size_s: int
) -> str:
    """Id of the comparison of one challenger with the champion in one window; `champion` and
    `challenger` are (name, version). A re-emitted comparison keeps its id."""
    return _derive(
        "comparison-report",
        *champion,
        *challenger,
        window_start.astimezone(UTC).isoformat(),
        str(size_s),
    )


def promotion_verdict_id(report_id: str) -> str:
    """Id of the verdict of one comparison report."""
    return _derive("promotion-verdict", report_id)
