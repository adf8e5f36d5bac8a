"""Committed JSON Schemas match the models, and every payload validates against its schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import EVENT_TYPES, PAYMENT_AUTHORIZED
from events.schemas import REGENERATE_COMMAND, generate, render, schema_path
from events.testing import PAYLOADS, sample_payment

pytestmark = pytest.mark.unit

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPE_NAMES = sorted(EVENT_TYPES)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_committed_schema_matches_the_model(type_name: str) -> None:
    path = schema_path(type_name)
    committed = path.read_text(encoding="utf-8") if path.is_file() else ""
    assert committed == render(generate()[type_name]), (
        f"{path.name} has drifted from the model; regenerate with `{REGENERATE_COMMAND}` and commit"
    )


def test_every_type_has_a_committed_schema_and_nothing_else_is_there() -> None:
    committed = {path.name for path in schema_path(PAYMENT_AUTHORIZED).parent.glob("*.json")}
    assert committed == {f"{name}.json" for name in TYPE_NAMES}


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_schema_is_identified_by_the_dataschema_uri(type_name: str) -> None:
    schema = _committed(type_name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == EVENT_TYPES[type_name].dataschema
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("type_name", TYPE_NAMES)
@QUICK
@given(data=st.data())
def test_payloads_validate_against_the_committed_schema(type_name: str, data: st.DataObject) -> None:
    payload = data.draw(PAYLOADS[type_name])
    as_json = orjson.loads(payload.model_dump_json())
    jsonschema.Draft202012Validator(_committed(type_name)).validate(as_json)


@pytest.mark.parametrize(
    "change",
    [{"currency": "XXX"}, {"country": "fr"}, {"amount": 0}, {"channel": "phone"}, {"extra": 1}],
)
def test_schema_rejects_what_the_model_rejects(change: dict[str, Any]) -> None:
    payment = {**orjson.loads(sample_payment().model_dump_json()), **change}
    validator = jsonschema.Draft202012Validator(_committed(PAYMENT_AUTHORIZED))
    assert not validator.is_valid(payment)


def _committed(type_name: str) -> dict[str, Any]:
    return orjson.loads(schema_path(type_name).read_bytes())
