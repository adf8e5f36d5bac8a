"""`rtinfer dlq replay` puts dead letters back on their origin topic, byte for byte."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from events import KafkaOrigin, KafkaRecord, dead_letter_event, decode_kafka, encode_kafka
from events.results import DecodeFailure
from events.testing import sample_payment_event
from rtinfer.cli import main
from rtinfer.producer.kafka import produce_records
from services.adapters.kafka.settings import KafkaSettings
from tests.integration.kafka_helpers import create_topics, read_all
from tests.servers import KafkaEndpoint


def test_replay_filters_by_reason_and_restores_the_originals(
    kafka: KafkaEndpoint, unique_name: str, capsys
) -> None:  # type: ignore[no-untyped-def]
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
        letters.append(
            dead_letter_event(
                failure,
                origin=KafkaOrigin(topic=origin_topic, partition=0, offset=offset),
                stage="decode",
                first_seen=datetime(2026, 1, 1, tzinfo=UTC),
                source="/tests",
            )
        )
    reasons = {letter.data.reason for letter in letters}
    settings = KafkaSettings(bootstrap=kafka.bootstrap)
    asyncio.run(
        produce_records([encode_kafka(letter) for letter in letters], kafka=settings, topic=dlq_topic)
    )

    assert (
        main(
            [
                "dlq",
                "replay",
                "--topic",
                dlq_topic,
                "--bootstrap",
                kafka.bootstrap,
                "--dry-run",
                "--timeout",
                "2",
            ]
        )
        == 0
    )
    assert f"would re-publish 3 of 3 dead letters: 3 to {origin_topic}" in capsys.readouterr().out
    assert asyncio.run(read_all(kafka.bootstrap, origin_topic, 1, timeout_s=2)) == []

    bad_json = next(letter.data.reason for letter in letters if letter.partitionkey == "card-1")
    assert (
        main(
            [
                "dlq",
                "replay",
                "--topic",
                dlq_topic,
                "--bootstrap",
                kafka.bootstrap,
                "--reason",
                bad_json,
                "--timeout",
                "2",
            ]
        )
        == 0
    )
    replayed = asyncio.run(read_all(kafka.bootstrap, origin_topic, 1, timeout_s=10))
    assert len(replayed) == 1 and len(reasons) >= 2
    assert replayed[0].key == b"card-1" and replayed[0].value == b"{broken"
    assert dict(replayed[0].headers) == dict(originals[0].headers)

    assert (
        main(
            [
                "dlq",
                "replay",
                "--topic",
                dlq_topic,
                "--bootstrap",
                kafka.bootstrap,
                "--reason",
                "not_json_at_all_reason",
                "--timeout",
                "2",
            ]
        )
        == 0
    )
    # A reason nothing has: nothing more is sent.
    assert len(asyncio.run(read_all(kafka.bootstrap, origin_topic, 5, timeout_s=3))) == 1
