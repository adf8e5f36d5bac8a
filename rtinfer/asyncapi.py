"""The AsyncAPI document of the scoring and feature services, generated from their apps.

FastStream describes channels and operations from the registered subscribers and
publishers; the message payloads are then set to the committed CloudEvent JSON Schemas,
since handlers read raw records (our own decoder runs at the edge).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from events import DEADLETTER, EXPLANATION, PAYMENT_AUTHORIZED, PREDICTION
from events.schemas import generate

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"


def _brokers() -> list[KafkaBroker]:
    from services.features.app import FeatureWriterApp
    from services.features.settings import FeatureWriterSettings
    from services.scoring.kafka_ingress import KafkaIngress
    from services.scoring.settings import ScoringSettings

    scoring = ScoringSettings(model_dir=Path("var/model"))
    scoring_broker = KafkaBroker("kafka:9092", description="rtinfer scoring service")
    KafkaIngress(scoring, scoring_broker)
    topics = scoring.topics
    for topic, type_name, text in [
        (topics.predictions, PREDICTION, "one prediction per payment, keyed by card id"),
        (topics.explanations, EXPLANATION, "exact TreeSHAP explanations, linked by prediction id"),
        (topics.dlq, DEADLETTER, "inputs that cannot be scored, with reason and origin"),
    ]:
        scoring_broker.publisher(topic, title=f"scoring-{topic}", description=f"{text} ({type_name})")
    features_broker = FeatureWriterApp(FeatureWriterSettings(), KafkaBroker("kafka:9092")).broker
    features_broker.publisher(
        FeatureWriterSettings().dlq_topic,
        title="features-dlq",
        description=f"payments the feature writer cannot count ({DEADLETTER})",
    )
    return [scoring_broker, features_broker]


def build_document() -> dict[str, Any]:
    spec = AsyncAPI(
        *_brokers(),
        title="rtinfer",
        version="1.0.0",
        description="Scoring and feature services: CloudEvents over Kafka (binary mode).",
        schema_version="2.6.0",
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    schemas = generate()
    # Checked in this order: "payments.dlq" is a dead-letter channel, not a payments one.
    payload_of = {
        "dlq": DEADLETTER,
        "predictions": PREDICTION,
        "explanations": EXPLANATION,
        "payments": PAYMENT_AUTHORIZED,
    }
    for name, message in document.get("components", {}).get("messages", {}).items():
        lowered = name.lower()
        for marker, type_name in payload_of.items():
            if marker in lowered:
                message["payload"] = {"$ref": f"#/components/schemas/{type_name}"}
                message["contentType"] = "application/json"
                message["headers"] = _ce_headers(type_name)
                break
    document.setdefault("components", {}).setdefault("schemas", {}).update(
        {type_name: schemas[type_name] for type_name in payload_of.values()}
    )
    return document


def _ce_headers(type_name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents Kafka binding, binary mode; the record key is the partitionkey",
        "properties": {
            "ce_specversion": {"const": "1.0"},
            "ce_id": {"type": "string"},
            "ce_source": {"type": "string"},
            "ce_type": {"const": type_name},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {"type": "string"},
            "ce_traceparent": {"type": "string"},
            "ce_causationid": {"type": "string"},
            "content-type": {"const": "application/json"},
        },
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type"],
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
