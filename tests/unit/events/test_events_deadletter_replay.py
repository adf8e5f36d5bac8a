"""What `rtinfer dlq replay` makes of the records on a dead-letter topic (no Kafka needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from events import (
    Decoded,
    HttpOrigin,
    KafkaOrigin,
    Mode,
    RawInput,
    dead_letter_event,
    decode_http,
    decode_kafka,
    encode_http,
    encode_kafka,
)
from events.testing import sample_payment_event
from rtinfer.dlq.replay import DlqRecord, Entry, Inventory, ReplayFilter, classify, plan_replay

pytestmark = pytest.mark.unit

SEEN = datetime(2026, 1, 1, tzinfo=UTC)
MAX = 8 * 1024 * 1024


def _on_dlq(original: Any, origin: KafkaOrigin | HttpOrigin, **options: Any) -> DlqRecord:
    """The DLQ record of the letter for `original`."""
    fields = {"stage": "decode", "first_seen": SEEN, "source": "//t", "reason": "bad_json"} | options
    record = encode_kafka(dead_letter_event(original, origin=origin, **fields))
    return DlqRecord(record.key, record.value, record.headers, timestamp_ms=0)


def _entry(record: DlqRecord) -> Entry:
    entry = classify(record, MAX)
    assert isinstance(entry, Entry)
    return entry


def _replayable(record: RawInput) -> Decoded:
    headers = [(name, value or b"") for name, value in record.headers]
    decoded = decode_kafka(record.key, record.value or b"", headers)
    assert isinstance(decoded, Decoded), decoded
    return decoded


def test_a_kafka_letter_gives_back_its_record_byte_for_byte() -> None:
    original = RawInput(b"\xff{broken", (("ce_id", b"a"), ("ce_id", b"b"), ("x", None)), b"card-1")
    entry = _entry(_on_dlq(original, KafkaOrigin(topic="payments", partition=0, offset=3)))
    assert (entry.kind, entry.topic, entry.reason, entry.problem) == ("rtinfer", "payments", "bad_json", None)
    assert entry.original == original


def test_a_null_value_stays_null() -> None:
    entry = _entry(_on_dlq(RawInput(None, (), b"k"), KafkaOrigin(topic="payments", partition=0, offset=1)))
    assert entry.original == RawInput(None, (), b"k")


def test_an_http_binary_request_becomes_a_kafka_binary_record() -> None:
    event = sample_payment_event()
    http_headers, body = encode_http(event)
    http_headers |= {"ce-source": "//tests/acquirer%20one", "host": "scoring", "user-agent": "kn"}
    [decoded] = decode_http(http_headers, body)
    assert isinstance(decoded, Decoded)
    raw_headers = tuple((name, value.encode()) for name, value in http_headers.items())
    entry = _entry(_on_dlq(RawInput(body, raw_headers), HttpOrigin(path="/")))
    assert entry.topic is None and entry.problem is None
    names = [name for name, _ in entry.original.headers]
    assert "host" not in names and all(name.startswith("ce_") or name == "content-type" for name in names)
    replayed = _replayable(entry.original)
    assert replayed.mode is Mode.BINARY and replayed.event.source == "//tests/acquirer one"
    assert replayed.event == decoded.event


def test_structured_requests_stay_structured_and_keep_their_partition_key() -> None:
    event = sample_payment_event()
    http_headers, body = encode_http(event, Mode.STRUCTURED)
    raw_headers = tuple((name, value.encode()) for name, value in http_headers.items())
    entry = _entry(_on_dlq(RawInput(body, raw_headers), HttpOrigin(path="/")))
    replayed = _replayable(entry.original)
    assert replayed.mode is Mode.STRUCTURED and entry.original.key == b"card-42"


def test_one_item_of_a_batch_becomes_a_structured_record_a_whole_batch_none() -> None:
    event = sample_payment_event()
    batch_headers, batch = encode_http(event, Mode.BATCH)
    raw_headers = tuple((name, value.encode()) for name, value in batch_headers.items())
    item = orjson.dumps(orjson.loads(batch)[0])
    entry = _entry(_on_dlq(RawInput(item, raw_headers), HttpOrigin(path="/")))
    assert _replayable(entry.original).mode is Mode.STRUCTURED
    whole = _entry(_on_dlq(RawInput(batch, raw_headers), HttpOrigin(path="/")))
    assert whole.problem is not None and whole.problem.startswith("an HTTP batch body")


def _knative(mode: Mode) -> DlqRecord:
    record = encode_kafka(sample_payment_event(), mode)
    if mode is Mode.STRUCTURED:
        envelope = orjson.loads(record.value) | {
            "knativeerrorcode": "500",
            "knativeerrordest": "http://scoring",
        }
        return DlqRecord(record.key, orjson.dumps(envelope), record.headers, timestamp_ms=1_767_225_600_000)
    extra = [("ce_knativeerrorcode", b"500"), ("ce_knativeerrordest", b"http://scoring")]
    return DlqRecord(record.key, record.value, [*record.headers, *extra], timestamp_ms=1_767_225_600_000)


@pytest.mark.parametrize("mode", [Mode.BINARY, Mode.STRUCTURED])
def test_knative_letters_are_replayed_as_they_are(mode: Mode) -> None:
    record = _knative(mode)
    entry = _entry(record)
    assert (entry.kind, entry.reason, entry.stage, entry.topic) == (
        "knative",
        "knative_500",
        "delivery",
        None,
    )
    assert entry.first_seen == SEEN and entry.letter_id == "pay-0001"
    assert entry.original == RawInput(record.value, tuple(record.headers), record.key)
    assert _replayable(entry.original).event.extensions["knativeerrorcode"] == "500"


def test_old_v1_letters_and_junk_are_counted_not_replayed() -> None:
    inventory = Inventory()
    inventory.add(DlqRecord(None, b"{}", [("ce_type", b"dev.rtinfer.deadletter.v1")], 0), MAX)
    inventory.add(DlqRecord(None, b"\x00junk", [], 0), MAX)
    inventory.add(DlqRecord(None, b"{}", [("ce_type", b"dev.rtinfer.deadletter.v2")], 0), MAX)
    assert (inventory.entries, inventory.legacy_v1, inventory.unreadable) == ([], 1, 2)


def test_only_allowed_topics_are_published_to() -> None:
    letters = [
        _entry(_on_dlq(RawInput(b"a"), KafkaOrigin(topic="payments", partition=0, offset=1))),
        _entry(_on_dlq(RawInput(b"b"), KafkaOrigin(topic="admin.commands", partition=0, offset=2))),
        _entry(_on_dlq(RawInput(b"c"), HttpOrigin(path="/"))),
        _entry(_knative(Mode.BINARY)),
    ]
    plan = plan_replay(letters, ReplayFilter(), None, frozenset({"payments"}))
    assert [(item.topic, item.record.value) for item in plan.replays] == [("payments", b"a")]
    assert (plan.refused, plan.no_target) == ({"admin.commands": 1}, 2)
    to_payments = plan_replay(letters, ReplayFilter(), "payments", frozenset({"payments"}))
    assert len(to_payments.replays) == 3 and to_payments.held_back == 1


def test_truncated_letters_are_never_replayed() -> None:
    cut = _on_dlq(
        RawInput(b"x" * 5000), KafkaOrigin(topic="payments", partition=0, offset=1), max_original_bytes=10
    )
    plan = plan_replay([_entry(cut)], ReplayFilter(), None, frozenset({"payments"}))
    assert plan.replays == [] and plan.not_replayable == {"truncated": 1}


def test_filters_apply_to_both_kinds() -> None:
    ours = _entry(_on_dlq(RawInput(b"a"), KafkaOrigin(topic="payments", partition=0, offset=1)))
    theirs = _entry(_knative(Mode.BINARY))
    assert ReplayFilter(reasons=frozenset({"knative_500"})).accepts(theirs)
    assert not ReplayFilter(reasons=frozenset({"knative_500"})).accepts(ours)
    assert ReplayFilter(stages=frozenset({"decode"})).accepts(ours)
    assert not ReplayFilter(since=datetime(2026, 1, 2, tzinfo=UTC)).accepts(theirs)
