"""The AsyncAPI document of the scoring and feature services, generated from their apps.

FastStream describes channels and operations from the registered subscribers and
publishers; the message payloads are then set to the committed CloudEvent JSON Schemas,
since handlers read raw records (our own decoder runs at the edge).

The committed schemas are JSON Schema 2020-12 as pydantic writes them; an AsyncAPI 2.6
Schema Object is a superset of draft 07 that is read in the document's scope. So each
payload schema is adapted on the way in (`component_schemas`): the nested models under
`$defs` become components of their own, with every `#/$defs/X` reference rewritten to
`#/components/schemas/X`; `$schema` and `$id` are dropped (an `$id` would move the base
that those references resolve against; the dataschema URI is kept as `x-dataschema`); an
OpenAPI-style discriminator object becomes the property name that AsyncAPI 2.x expects,
with its mapping kept as `x-discriminator-mapping`. `scripts/validate-asyncapi.sh` checks
the result with the official parser.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from events import DEADLETTER, EXPLANATION, PAYMENT_AUTHORIZED, PREDICTION, SHADOW_PREDICTION
from events.schemas import generate

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"
SCHEMA_VERSION = "2.6.0"
DEFS_PREFIX = "#/$defs/"
COMPONENTS_PREFIX = "#/components/schemas/"
# What AsyncAPI 2.6 allows as a key under components.
COMPONENT_NAME = re.compile(r"^[a-zA-Z0-9.\-_]+$")
# Keywords whose values are data, not schemas: a "$ref" key in there is not a reference.
DATA_KEYWORDS = frozenset({"const", "default", "enum", "examples", "example"})

DESCRIPTION = (
    "Scoring and feature services: CloudEvents over Kafka (binary mode). "
    "AsyncAPI 2.6, whose Schema Object is a superset of JSON Schema draft 07 like 3.0's; "
    "the committed JSON Schemas (2020-12) are adapted: nested models are hoisted from $defs "
    "into components.schemas and a discriminator is a property name (see docs/events.md)."
)


class SchemaNameCollision(ValueError):
    """Two different schemas would share one name under components.schemas."""


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
        (
            topics.shadow_predictions,
            SHADOW_PREDICTION,
            "scores of the models that did not decide (challengers; the champion for canary entities), "
            "linked by prediction id",
        ),
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
        description=DESCRIPTION,
        schema_version=SCHEMA_VERSION,
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    document["id"] = "urn:rtinfer:events"
    document["tags"] = [
        {"name": "cloudevents", "description": "CloudEvents 1.0, Kafka protocol binding"},
        {"name": "fraud-scoring", "description": "payments in; predictions, explanations, dead letters out"},
    ]
    document["info"]["license"] = {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}
    schemas = generate()
    # Checked in this order: "payments.dlq" is a dead-letter channel, not a payments one.
    payload_of = {
        "dlq": DEADLETTER,
        "shadow": SHADOW_PREDICTION,
        "predictions": PREDICTION,
        "explanations": EXPLANATION,
        "payments": PAYMENT_AUTHORIZED,
    }
    components = document.setdefault("components", {})
    for name, message in components.get("messages", {}).items():
        lowered = name.lower()
        for marker, type_name in payload_of.items():
            if marker in lowered:
                message["messageId"] = name
                message["name"] = type_name
                message["payload"] = {"$ref": f"{COMPONENTS_PREFIX}{_pointer_token(type_name)}"}
                message["contentType"] = "application/json"
                message["headers"] = _ce_headers(type_name)
                break
    for channel_name, channel in document.get("channels", {}).items():
        for action, verb in (("publish", "receive"), ("subscribe", "send")):
            if action in channel:
                channel[action]["operationId"] = _operation_id(channel_name, verb)
    # FastStream's own payload placeholders are unused once the messages point at the events.
    used = _referenced_components(document)
    kept = {name: schema for name, schema in components.get("schemas", {}).items() if name in used}
    components["schemas"] = merge_components(
        kept, component_schemas({type_name: schemas[type_name] for type_name in payload_of.values()})
    )
    return document


def component_schemas(named: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """components.schemas for the named JSON Schemas: each one adapted, its `$defs` beside it.

    A definition that several schemas share (same name, same content) is kept once; the same
    name with different content raises SchemaNameCollision.
    """
    result: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for name, schema in named.items():
        adapted = copy.deepcopy(dict(schema))
        definitions = adapted.pop("$defs", {})
        for def_name, definition in definitions.items():
            _place(result, owners, def_name, _adapt(definition), f"{name} $defs")
        dataschema = adapted.pop("$id", None)
        adapted.pop("$schema", None)
        adapted = _adapt(adapted)
        if dataschema is not None:
            adapted["x-dataschema"] = dataschema
        _place(result, owners, name, adapted, name)
    return result


def merge_components(*parts: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """One components.schemas from several, raising SchemaNameCollision on a differing name."""
    result: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for index, part in enumerate(parts):
        for name, schema in part.items():
            _place(result, owners, name, dict(schema), f"part {index}")
    return result


def _place(
    result: dict[str, dict[str, Any]], owners: dict[str, str], name: str, schema: dict[str, Any], owner: str
) -> None:
    if not COMPONENT_NAME.match(name):
        raise SchemaNameCollision(f"{name!r} (from {owner}) is not a valid AsyncAPI component name")
    if name in result and result[name] != schema:
        raise SchemaNameCollision(
            f"components.schemas.{name}: {owner} and {owners[name]} define it differently; "
            "rename one of the models"
        )
    result.setdefault(name, schema)
    owners.setdefault(name, owner)


def _adapt(node: Any) -> Any:
    """A JSON Schema (2020-12, as pydantic writes it) as an AsyncAPI 2.x Schema Object."""
    if isinstance(node, list):
        return [_adapt(item) for item in node]
    if not isinstance(node, dict):
        return node
    adapted: dict[str, Any] = {}
    for key, value in node.items():
        if key in DATA_KEYWORDS:
            adapted[key] = copy.deepcopy(value)
        elif key == "$ref" and isinstance(value, str):
            adapted[key] = _rewrite_ref(value)
        elif key == "properties" and isinstance(value, dict):
            adapted[key] = {name: _adapt(schema) for name, schema in value.items()}
        elif key == "discriminator" and isinstance(value, dict):
            continue
        elif key == "$defs":
            raise ValueError("nested $defs are not supported: pydantic writes them at the top only")
        else:
            adapted[key] = _adapt(value)
    discriminator = node.get("discriminator")
    if isinstance(discriminator, dict):
        _discriminator_as_property_name(adapted, discriminator)
    return adapted


def _discriminator_as_property_name(schema: dict[str, Any], discriminator: Mapping[str, Any]) -> None:
    """AsyncAPI 2.x: `discriminator` is the name of a property this schema defines and requires.

    Its values are the kinds (e.g. "kafka"), not schema names, so the mapping from value to
    schema is kept as `x-discriminator-mapping`; the oneOf branches' `const` still decide.
    """
    property_name = discriminator["propertyName"]
    mapping = {value: _rewrite_ref(ref) for value, ref in discriminator.get("mapping", {}).items()}
    schema["discriminator"] = property_name
    definition: dict[str, Any] = {"type": "string"}
    if mapping:
        definition["enum"] = sorted(mapping)
        schema["x-discriminator-mapping"] = mapping
    schema.setdefault("properties", {}).setdefault(property_name, definition)
    required = schema.setdefault("required", [])
    if property_name not in required:
        required.append(property_name)


def _rewrite_ref(ref: str) -> str:
    if ref.startswith(DEFS_PREFIX):
        return COMPONENTS_PREFIX + ref[len(DEFS_PREFIX) :]
    if ref.startswith("#"):
        raise ValueError(f"unsupported local reference {ref!r}: only {DEFS_PREFIX}NAME is rewritten")
    return ref


def _pointer_token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _operation_id(channel: str, verb: str) -> str:
    words = [word for word in re.split(r"[^A-Za-z0-9]+", channel) if word]
    return words[0].lower() + "".join(word.capitalize() for word in words[1:]) + verb.capitalize()


def _referenced_components(document: Mapping[str, Any]) -> set[str]:
    """Names under components.schemas that some `$ref` in the document points at."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(COMPONENTS_PREFIX):
                found.add(ref[len(COMPONENTS_PREFIX) :].replace("~1", "/").replace("~0", "~"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


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
