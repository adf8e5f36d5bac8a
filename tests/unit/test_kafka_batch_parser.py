"""FastStream's own batch parser raised on a non-UTF-8 or null header value before our decoder
saw the batch (found by the chaos suite: the batch was then committed by the next ack without
outputs). Our parser wrapper gives it safe text and keeps the untouched records."""

from __future__ import annotations

import pytest
from aiokafka.structs import ConsumerRecord
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.parser import AioKafkaBatchParser

from services.adapters.kafka.records import source_records, tolerant_batch_parser

pytestmark = pytest.mark.unit


def _record(
    offset: int, headers: list[tuple[str, bytes | None]], value: bytes | None = b"{}"
) -> ConsumerRecord:  # type: ignore[type-arg]
    return ConsumerRecord(
        topic="payments",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"card-1",
        value=value,
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=2,
        headers=headers,
    )


async def test_faststreams_parser_alone_raises_on_a_hostile_header_value() -> None:
    parser = AioKafkaBatchParser(msg_class=KafkaAckableMessage, regex=None)
    with pytest.raises(UnicodeDecodeError):
        await parser.parse_batch((_record(0, [("ce_id", b"\xff\xfe")]),))


async def test_the_wrapper_parses_and_keeps_the_original_bytes() -> None:
    parser = AioKafkaBatchParser(msg_class=KafkaAckableMessage, regex=None)
    records = (
        _record(0, [("ce_id", b"ok")]),
        _record(1, [("ce_id", b"\xff\xfe"), ("x-null", None)]),
        _record(2, [], value=None),
    )

    message = await tolerant_batch_parser(records, parser.parse_batch)

    assert message.raw_message is records
    neutral = source_records(message.raw_message)
    assert neutral[1].headers[0] == ("ce_id", b"\xff\xfe")
    assert neutral[2].value is None  # a tombstone stays null, so its dead letter says so
