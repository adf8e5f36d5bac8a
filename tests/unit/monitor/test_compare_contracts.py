"""The comparison contracts: any valid report or verdict survives both bindings and validates
against its committed schema; a report's verdict must be of the same window and models."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import (
    COMPARISON_REPORT,
    EVENT_TYPES,
    PROMOTION_VERDICT,
    Decoded,
    Event,
    Mode,
    ModelComparison,
    PromotionVerdict,
    comparison_report_event,
    decode_http,
    decode_kafka,
    encode_http,
    encode_kafka,
    promotion_verdict_event,
)
from events.schemas import schema_path
from events.testing import model_comparisons

pytestmark = pytest.mark.unit

SCHEMAS = {name: json.loads(schema_path(name).read_text()) for name in (COMPARISON_REPORT, PROMOTION_VERDICT)}


def _roundtrips(event: Event[Any]) -> None:
    record = encode_kafka(event)
    from_kafka = decode_kafka(record.key, record.value, record.headers)
    assert isinstance(from_kafka, Decoded) and from_kafka.event.data == event.data
    assert from_kafka.event.id == event.id and from_kafka.event.causationid == event.causationid
    headers, body = encode_http(event, Mode.STRUCTURED)
    (from_http,) = decode_http(headers, body)
    assert isinstance(from_http, Decoded) and from_http.event.data == event.data


@settings(max_examples=60, deadline=None)
@given(model_comparisons(), st.sampled_from(["//tests/monitor", "/rtinfer/monitor"]))
def test_reports_and_verdicts_roundtrip_and_match_their_schemas(report: ModelComparison, source: str) -> None:
    report_event = comparison_report_event(report, source=source)
    verdict_event = promotion_verdict_event(report_event, source=source)
    for event in (report_event, verdict_event):
        jsonschema.validate(event.data.model_dump(mode="json"), SCHEMAS[event.type])
        assert EVENT_TYPES[event.type].payload_time(event.data) == report.window.end == event.time
        assert event.subject == event.partitionkey == report.challenger_name
        _roundtrips(event)
    assert verdict_event.causationid == report_event.id
    # Derived ids: building again gives the same ones.
    assert comparison_report_event(report, source=source).id == report_event.id


@settings(max_examples=30, deadline=None)
@given(model_comparisons())
def test_a_verdict_of_another_window_or_model_is_refused(report: ModelComparison) -> None:
    other = report.verdict.model_copy(update={"challenger_name": report.challenger_name + "-other"})
    with pytest.raises(ValueError, match=r"verdict\.window"):
        ModelComparison(**{**dict(report), "verdict": PromotionVerdict(**dict(other))})
