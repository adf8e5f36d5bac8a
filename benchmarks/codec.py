"""Codec throughput: decode+validate and encode of payment events, ours and the cloudevents SDK's."""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from cloudevents.kafka import KafkaMessage
from cloudevents.kafka import from_binary as sdk_from_binary

from events import (
    CardType,
    Channel,
    Decoded,
    Event,
    KafkaRecord,
    Mode,
    Payment,
    decode_kafka,
    encode_kafka,
    new_payment_event,
)

_CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CHF"]
_COUNTRIES = ["FR", "DE", "US", "GB", "JP", "ES", "IT"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=50000, help="events per measurement (default 50000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best kept (default 3)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated payments")


def run(args: argparse.Namespace) -> int:
    events = _payment_events(args.count, random.Random(args.seed))
    binary = [encode_kafka(event) for event in events]
    structured = [encode_kafka(event, Mode.STRUCTURED) for event in events]
    if not all(isinstance(_decode(record), Decoded) for record in binary + structured):
        print("error: a generated event failed to decode")
        return 1
    sdk_messages = [KafkaMessage(dict(record.headers), record.key, record.value) for record in binary]
    measurements: list[tuple[str, Sequence[Any], Callable[[Any], object]]] = [
        ("decode+validate kafka binary", binary, _decode),
        ("decode+validate kafka structured", structured, _decode),
        ("encode kafka binary", events, encode_kafka),
        ("encode kafka structured", events, _encode_structured),
        ("cloudevents SDK kafka from_binary (no validation)", sdk_messages, sdk_from_binary),
        ("cloudevents SDK from_binary + Payment validation", sdk_messages, _sdk_decode_validate),
    ]
    print(f"{args.count} payment events, best of {args.repeat} runs, one core")
    print(f"{'measurement':<52} {'events/s':>12} {'us/event':>9}")
    for name, items, operation in measurements:
        seconds = min(_time(items, operation) for _ in range(max(1, args.repeat)))
        print(f"{name:<52} {len(items) / seconds:>12,.0f} {seconds / len(items) * 1e6:>9.2f}")
    return 0


def _decode(record: KafkaRecord) -> object:
    return decode_kafka(record.key, record.value, record.headers)


def _encode_structured(event: Event[Any]) -> KafkaRecord:
    return encode_kafka(event, Mode.STRUCTURED)


def _sdk_decode_validate(message: KafkaMessage) -> Payment:
    event = sdk_from_binary(message, data_unmarshaller=lambda value: value)
    return Payment.model_validate_json(cast(bytes, event.get_data()))


def _time(items: Sequence[Any], operation: Callable[[Any], object]) -> float:
    started = time.perf_counter()
    for item in items:
        operation(item)
    return time.perf_counter() - started


def _payment_events(count: int, rng: random.Random) -> list[Event[Payment]]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        new_payment_event(
            Payment(
                payment_id=f"pay-{index:09d}",
                card_id=f"card-{rng.randrange(100_000):06d}",
                merchant_id=f"m-{rng.randrange(5_000):05d}",
                amount=round(rng.lognormvariate(3.5, 1.2), 2) or 0.01,
                currency=rng.choice(_CURRENCIES),
                timestamp=start + timedelta(seconds=index * 0.37),
                country=rng.choice(_COUNTRIES),
                merchant_category=f"{rng.choice([5411, 5812, 5999, 6011, 4829]):04d}",
                channel=rng.choice(list(Channel)),
                card_type=rng.choice(list(CardType)),
            ),
            source="//bench/acquirer",
            traceparent=f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01",
        )
        for index in range(count)
    ]
