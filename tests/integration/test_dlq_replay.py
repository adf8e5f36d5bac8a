"""`rtinfer dlq replay` puts dead letters back on their origin topic, byte for byte, safely."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from events import (
    Decoded,
    HttpOrigin,
    KafkaOrigin,
    KafkaRecord,
    Mode,
    RawInput,
    dead_letter_event,
    decode_kafka,
    encode_http,
    encode_kafka,
)
from events.deadletter import kafka_record_size
from events.results import DecodeFailure
from events.testing import sample_payment_event
from rtinfer.cli import main
from services.adapters.kafka.settings import KafkaSettings
from tests.integration.kafka_helpers import create_topics, read_all
from tests.servers import KafkaEndpoint

SEEN = datetime(2026, 1, 1, tzinfo=UTC)


def _letter(original: Any, origin: KafkaOrigin | HttpOrigin, **options: Any) -> KafkaRecord:
    fields = {"stage": "decode", "first_seen": SEEN, "source": "/tests"} | options
    return encode_kafka(dead_letter_event(original, origin=origin, **fields))


async def _produce(bootstrap: str, topic: str, records: list[RawInput]) -> None:
    """Send records as they are (null values and header values included), one partition."""
    producer = AIOKafkaProducer(**KafkaSettings(bootstrap=bootstrap).producer_kwargs())
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                topic, record.value, key=record.key, headers=list(record.headers), partition=0
            )
    finally:
        await producer.stop()


def _letters_to_dlq(bootstrap: str, topic: str, letters: list[KafkaRecord]) -> None:
    asyncio.run(_produce(bootstrap, topic, [RawInput(r.value, tuple(r.headers), r.key) for r in letters]))


def _dlq(command: str, kafka: KafkaEndpoint, dlq_topic: str, *options: str) -> int:
    return main(
        ["dlq", command, "--topic", dlq_topic, "--bootstrap", kafka.bootstrap, "--timeout", "2", *options]
    )


def _raw(record: Any) -> RawInput:
    return RawInput(record.value, tuple(record.headers), record.key)


def test_replay_filters_by_reason_and_restores_the_originals(
    kafka: KafkaEndpoint, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    origin_topic, dlq_topic = f"{unique_name}-payments", f"{unique_name}-dlq"
    asyncio.run(create_topics(kafka.bootstrap, origin_topic, dlq_topic))
    valid = encode_kafka(sample_payment_event(card_id="card-1"))
    originals = [
        KafkaRecord(b"card-1", b"{broken", valid.headers),  # bad_json
        KafkaRecord(b"card-2", b"\xff\xfe binary", [*valid.headers, ("x-raw", b"\x00\x01")]),
        KafkaRecord(b"card-3", b'{"amount": -1}', [("ce_id", b"c")]),  # missing attributes
    ]
    letters = []
    for offset, record in enumerate(originals):
        failure = decode_kafka(record.key, record.value, record.headers)
        assert isinstance(failure, DecodeFailure)
        letters.append(_letter(failure, KafkaOrigin(topic=origin_topic, partition=0, offset=offset)))
    _letters_to_dlq(kafka.bootstrap, dlq_topic, letters)
    allow = ("--allow-topic", origin_topic)

    assert _dlq("replay", kafka, dlq_topic, *allow, "--dry-run") == 0
    assert f"would re-publish 3 of 3 dead letters: 3 to {origin_topic}" in capsys.readouterr().out
    assert asyncio.run(read_all(kafka.bootstrap, origin_topic, 1, timeout_s=2)) == []

    assert _dlq("replay", kafka, dlq_topic, *allow, "--reason", "bad_json") == 0
    replayed = asyncio.run(read_all(kafka.bootstrap, origin_topic, 1, timeout_s=10))
    assert len(replayed) == 1
    assert _raw(replayed[0]) == RawInput(b"{broken", tuple(originals[0].headers), b"card-1")

    assert _dlq("replay", kafka, dlq_topic, *allow, "--reason", "not_json_at_all_reason") == 0
    # A reason nothing has: nothing more is sent.
    assert len(asyncio.run(read_all(kafka.bootstrap, origin_topic, 5, timeout_s=3))) == 1


def test_large_hostile_and_null_records_come_back_byte_for_byte(
    kafka: KafkaEndpoint, unique_name: str
) -> None:
    origin_topic, dlq_topic = f"{unique_name}-payments", f"{unique_name}-dlq"
    asyncio.run(create_topics(kafka.bootstrap, origin_topic, dlq_topic, partitions=1))
    headers = (("ce_id", b"a"), ("ce_id", b"b"), ("nul", b"\x00" * 100_000), ("empty", b""), ("null", None))
    originals = [
        RawInput(b"[" * 1000 + b"]" * 1000 + b"\xff" * 400_000, headers, b"card-1"),  # too large, deep
        RawInput(None, (("ce_id", b"tombstone"),), b"card-2"),  # a Kafka null value
    ]
    letters = [
        _letter(original, KafkaOrigin(topic=origin_topic, partition=0, offset=offset), reason="too_large")
        for offset, original in enumerate(originals)
    ]
    assert kafka_record_size(letters[0]) > 600_000  # far over the 64 KiB the reader used to allow
    _letters_to_dlq(kafka.bootstrap, dlq_topic, letters)

    assert _dlq("replay", kafka, dlq_topic, "--allow-topic", origin_topic) == 0
    replayed = asyncio.run(read_all(kafka.bootstrap, origin_topic, 2, timeout_s=20))
    assert [_raw(record) for record in replayed] == originals


def test_http_and_knative_letters_go_to_the_given_topic_and_others_are_refused(
    kafka: KafkaEndpoint, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target, elsewhere, dlq_topic = f"{unique_name}-payments", f"{unique_name}-admin", f"{unique_name}-dlq"
    asyncio.run(create_topics(kafka.bootstrap, target, elsewhere, dlq_topic, partitions=1))
    http_headers, body = encode_http(sample_payment_event(card_id="card-7"))
    http_raw = RawInput(
        body, tuple((name, value.encode()) for name, value in [*http_headers.items(), ("host", "x")])
    )
    knative = encode_kafka(sample_payment_event(card_id="card-8"), Mode.BINARY)
    knative_raw = RawInput(knative.value, (*knative.headers, ("ce_knativeerrorcode", b"500")), knative.key)
    hijack = _letter(
        RawInput(b"rm -rf"), KafkaOrigin(topic=elsewhere, partition=0, offset=0), reason="bad_json"
    )
    letters = [_letter(http_raw, HttpOrigin(path="/"), reason="timeout"), hijack]
    asyncio.run(_produce(kafka.bootstrap, dlq_topic, [*(_raw(r) for r in letters), knative_raw]))

    assert _dlq("show", kafka, dlq_topic) == 0
    shown = capsys.readouterr().out
    assert "3 of 3 dead letters match (1 from Knative, 0 v1 letters not replayable, 0 unreadable" in shown
    assert (
        "reason=knative_500  stage=delivery" in shown
        and "reason=timeout  stage=decode  origin=http:/" in shown
    )

    assert _dlq("replay", kafka, dlq_topic, "--to", target) == 2  # the target is not allowed either
    assert _dlq("replay", kafka, dlq_topic, "--to", target, "--allow-topic", target) == 1
    captured = capsys.readouterr()
    assert f"refused 1 letters whose topic is not allowed: {elsewhere} (1)" in captured.err
    assert "1 from Knative" in captured.out

    replayed = asyncio.run(read_all(kafka.bootstrap, target, 2, timeout_s=20))
    decoded = [decode_kafka(r.key, r.value, list(r.headers)) for r in replayed]
    assert all(isinstance(result, Decoded) for result in decoded)
    assert sorted(result.event.data.card_id for result in decoded if isinstance(result, Decoded)) == [
        "card-7",
        "card-8",
    ]
    assert _raw(replayed[1]) == knative_raw  # Knative's letter, as it was
    assert asyncio.run(read_all(kafka.bootstrap, elsewhere, 1, timeout_s=3)) == []
