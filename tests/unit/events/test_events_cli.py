"""`rtinfer events`: list types, print a schema, check the committed files."""

from __future__ import annotations

import json

import pytest

from events import EVENT_TYPES, PREDICTION
from events.schemas import generate, render
from rtinfer.cli import main

pytestmark = pytest.mark.unit


def test_list_prints_every_type_with_its_dataschema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [[name, t.dataschema] for name, t in EVENT_TYPES.items()]


def test_schema_prints_the_generated_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "schema", PREDICTION]) == 0
    out = capsys.readouterr().out
    assert out == render(generate()[PREDICTION])
    assert json.loads(out)["title"] == PREDICTION


def test_schema_of_an_unknown_type_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "schema", "dev.rtinfer.nothing.v1"]) == 2
    assert "unknown event type" in capsys.readouterr().err


def test_check_passes_on_the_committed_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "schema", "--check"]) == 0
