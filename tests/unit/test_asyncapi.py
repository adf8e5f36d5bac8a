"""docs/asyncapi.json is what the scoring and feature apps generate now."""

from __future__ import annotations

import json

import pytest

from rtinfer.asyncapi import DOCUMENT, build_document, render

pytestmark = pytest.mark.unit


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
