"""JSON Schemas of the payloads, generated from the models (committed under events/schemas/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from events.types import EVENT_TYPES, EventType

DRAFT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE_COMMAND = "rtinfer events schema --write"
SCHEMA_DIR = Path(__file__).with_name("schemas")


def schema_of(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema of one type's `data`, identified by its dataschema URI."""
    generated = event_type.payload.model_json_schema(mode="validation")
    generated.pop("title", None)
    return {"$schema": DRAFT, "$id": event_type.dataschema, "title": event_type.name, **generated}


def generate() -> dict[str, dict[str, Any]]:
    """Every registered type's schema, by type name."""
    return {name: schema_of(event_type) for name, event_type in EVENT_TYPES.items()}


def render(schema: dict[str, Any]) -> str:
    """The committed text of a schema (stable, so drift shows as a diff)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def schema_path(type_name: str) -> Path:
    """Where the schema of `type_name` is committed."""
    return SCHEMA_DIR / f"{type_name}.json"
