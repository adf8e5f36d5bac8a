"""docs/asyncapi.json is what the scoring and feature apps generate now, in AsyncAPI 2.6 terms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rtinfer.asyncapi import (
    DOCUMENT,
    SchemaNameCollision,
    build_document,
    component_schemas,
    merge_components,
    render,
)

pytestmark = pytest.mark.unit


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def test_committed_asyncapi_matches_the_apps() -> None:
    generated = render(build_document())
    assert DOCUMENT.read_text() == generated, (
        "docs/asyncapi.json drifted: run `rtinfer events asyncapi --write`"
    )


def test_channels_carry_the_cloudevent_schemas() -> None:
    document = json.loads(DOCUMENT.read_text())
    channels = set(document["channels"])
    assert {
        "scoring-payments",
        "scoring-predictions",
        "scoring-explanations",
        "scoring-payments.dlq",
    } <= channels
    messages = document["components"]["messages"]
    assert messages["scoring-predictions:Message"]["payload"] == {
        "$ref": "#/components/schemas/dev.rtinfer.prediction.v1"
    }
    assert messages["scoring-payments:Message"]["headers"]["properties"]["ce_type"] == {
        "const": "dev.rtinfer.payment.authorized.v1"
    }
    assert "dev.rtinfer.deadletter.v2" in document["components"]["schemas"]


def test_every_reference_resolves_in_the_document() -> None:
    document = build_document()
    refs = _refs(document)
    assert refs
    assert not [ref for ref in refs if "$defs" in ref]
    for ref in refs:
        assert isinstance(_resolve(document, ref), dict), ref


def test_nested_models_are_components_and_no_schema_keeps_defs_or_an_id() -> None:
    schemas = build_document()["components"]["schemas"]
    for name in ["CardType", "Channel", "Decision", "FeatureUse", "Neighbour", "ExplainReason"]:
        assert name in schemas, name
    assert {"TopContribution", "KafkaOrigin", "HttpOrigin"} <= set(schemas)
    for name, schema in schemas.items():
        assert not {"$defs", "$id", "$schema"} & set(schema), name
    assert schemas["dev.rtinfer.payment.authorized.v1"]["properties"]["card_type"] == {
        "$ref": "#/components/schemas/CardType"
    }
    assert (
        schemas["dev.rtinfer.prediction.v1"]["x-dataschema"]
        == "https://rtinfer.dev/schemas/dev.rtinfer.prediction.v1.json"
    )


def test_no_unused_placeholder_payloads() -> None:
    document = build_document()
    used = {ref.rsplit("/", 1)[1] for ref in _refs(document) if ref.startswith("#/components/schemas/")}
    assert set(document["components"]["schemas"]) == used


def test_discriminator_is_a_property_name_with_the_mapping_kept() -> None:
    schemas = build_document()["components"]["schemas"]
    origin = schemas["dev.rtinfer.deadletter.v2"]["properties"]["origin"]
    assert origin["discriminator"] == "kind"
    assert "kind" in origin["required"]
    assert origin["properties"]["kind"] == {"type": "string", "enum": ["http", "kafka"]}
    assert origin["x-discriminator-mapping"] == {
        "kafka": "#/components/schemas/KafkaOrigin",
        "http": "#/components/schemas/HttpOrigin",
    }
    for kind, ref in origin["x-discriminator-mapping"].items():
        branch = schemas[ref.rsplit("/", 1)[1]]
        assert branch["properties"]["kind"]["const"] == kind


def test_operations_and_messages_have_ids() -> None:
    document = build_document()
    operation_ids = [
        channel[action]["operationId"]
        for channel in document["channels"].values()
        for action in ("publish", "subscribe")
        if action in channel
    ]
    assert (
        len(operation_ids) == len(set(operation_ids)) == 7
    )  # payments in; predictions, shadow predictions, explanations, dlq out; features in, dlq out
    assert document["channels"]["scoring-payments"]["publish"]["operationId"] == "scoringPaymentsReceive"
    assert (
        document["channels"]["scoring-payments.dlq"]["subscribe"]["operationId"] == "scoringPaymentsDlqSend"
    )
    for name, message in document["components"]["messages"].items():
        assert message["messageId"] == name


def test_shared_definitions_are_kept_once() -> None:
    shared = {"type": "string", "enum": ["a", "b"]}
    schemas = component_schemas(
        {
            "one": {"$defs": {"Letter": shared}, "properties": {"x": {"$ref": "#/$defs/Letter"}}},
            "two": {"$defs": {"Letter": dict(shared)}, "items": {"$ref": "#/$defs/Letter"}},
        }
    )
    assert set(schemas) == {"Letter", "one", "two"}
    assert schemas["two"]["items"] == {"$ref": "#/components/schemas/Letter"}


def test_a_name_defined_differently_twice_is_refused() -> None:
    with pytest.raises(SchemaNameCollision, match=r"Letter.*rename"):
        component_schemas(
            {
                "one": {"$defs": {"Letter": {"enum": ["a"]}}},
                "two": {"$defs": {"Letter": {"enum": ["b"]}}},
            }
        )
    with pytest.raises(SchemaNameCollision, match="one"):
        component_schemas({"one": {"$defs": {"one": {"enum": ["a"]}}, "type": "object"}})
    with pytest.raises(SchemaNameCollision, match="EmptyPayload"):
        merge_components({"EmptyPayload": {"type": "null"}}, {"EmptyPayload": {"type": "object"}})


def test_a_name_asyncapi_does_not_allow_is_refused() -> None:
    with pytest.raises(SchemaNameCollision, match="not a valid"):
        component_schemas({"one": {"$defs": {"Page[int]": {"type": "object"}}}})


def test_data_is_not_rewritten_and_other_local_refs_are_refused() -> None:
    schemas = component_schemas({"one": {"const": {"$ref": "#/$defs/X"}, "default": {"$ref": "#/$defs/X"}}})
    assert schemas["one"] == {"const": {"$ref": "#/$defs/X"}, "default": {"$ref": "#/$defs/X"}}
    with pytest.raises(ValueError, match="unsupported local reference"):
        component_schemas({"one": {"items": {"$ref": "#/properties/a"}}})
