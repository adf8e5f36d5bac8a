"""Scoring behaviour that must hold on any transport: FastStream's in-memory broker and the
real Kafka run the same checks (tests/unit/scoring/test_behaviour_memory.py and
tests/integration/test_scoring_behaviour.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from events import DEADLETTER, PREDICTION, Event, KafkaRecord, encode_kafka, prediction_id
from events.testing import sample_payment_event

Send = Callable[[Sequence[KafkaRecord]], Awaitable[None]]
Collect = Callable[[str, int], Awaitable[list[Event[Any]]]]


def payment_records(count: int, cards: int = 4) -> list[KafkaRecord]:
    return [
        encode_kafka(
            sample_payment_event(payment_id=f"pay-b-{i:05d}", card_id=f"card-{i % cards}", amount=5.0 + i)
        )
        for i in range(count)
    ]


async def every_payment_gets_one_prediction_in_order(
    send: Send, collect: Collect, predictions_topic: str, model_version: str
) -> None:
    records = payment_records(40)
    await send(records)
    predictions = await collect(predictions_topic, 40)
    assert len(predictions) == 40
    assert {p.type for p in predictions} == {PREDICTION}
    expected = {f"pay-b-{i:05d}" for i in range(40)}
    assert {p.data.input_id for p in predictions} == expected
    for p in predictions:
        assert p.id == prediction_id(p.data.input_source, p.data.input_id, model_version)
        assert p.partitionkey == p.data.entity["card_id"]
    # Per card (= per partition key) the outputs keep the input order.
    for card in {p.partitionkey for p in predictions}:
        ids = [p.data.input_id for p in predictions if p.partitionkey == card]
        assert ids == sorted(ids), f"{card}: {ids}"


async def malformed_input_goes_to_the_dlq_with_its_origin(
    send: Send, collect: Collect, dlq_topic: str, payments_topic: str
) -> None:
    good = payment_records(1)[0]
    await send(
        [
            KafkaRecord(b"card-x", b"{broken json", good.headers),
            KafkaRecord(b"card-x", b'{"amount": -1}', good.headers),
        ]
    )
    letters = await collect(dlq_topic, 2)
    assert len(letters) == 2 and {letter.type for letter in letters} == {DEADLETTER}
    assert sorted(letter.data.reason for letter in letters) == ["bad_json", "invalid_payload"]
    for letter in letters:
        assert letter.data.origin.kind == "kafka" and letter.data.origin.topic == payments_topic
        assert letter.data.stage == "decode"
