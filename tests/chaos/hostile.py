"""Hostile Kafka records of many kinds, each tagged with an x-chaos-id header (kept first, so a
dead letter cut to size still names it). Deterministic from a seed, so a failure reproduces."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from events import encode_kafka
from events.testing import sample_payment_event
from tests.chaos.audit import CHAOS_ID


@dataclass(frozen=True)
class RawRecord:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    kind: str

    @property
    def chaos_id(self) -> str:
        return self.headers[0][1].decode()

    @property
    def is_event(self) -> bool:
        """Hostile bytes around a valid event (extra control-byte headers): it must be scored."""
        return self.kind in VALID_EVENT_KINDS


def _valid(index: int) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    # The payment id is the chaos id, so a hostile record that is still a valid event is audited
    # by its prediction like any other input.
    record = encode_kafka(sample_payment_event(payment_id=f"h-{index}", card_id=f"card-h{index % 7}"))
    return record.key, record.value, list(record.headers)


def _deep_nesting(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, _value, headers = _valid(index)
    depth = rng.choice([256, 300, 1024])
    return key, ("[" * depth + "]" * depth).encode(), headers


def _huge_nul_header(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, headers = _valid(index)
    return key, value, [*headers, ("x-padding", b"\x00" * rng.choice([100_000, 200_000]))]


def _control_byte_headers(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, headers = _valid(index)
    noise = bytes(rng.randrange(0, 32) for _ in range(2000))
    return key, value, [*headers, *((f"x-noise-{n}", noise) for n in range(20))]


def _null_value(index: int, rng: random.Random) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, _value, headers = _valid(index)
    return key, None, headers


def _null_key_wrong_types(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    _key, value, headers = _valid(index)
    body = json.loads(value)
    body["amount"] = rng.choice(["a lot", None, [1, 2], {"eur": 3}])
    return None, json.dumps(body).encode(), headers


def _oversize(index: int, rng: random.Random) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, headers = _valid(index)
    body = json.loads(value)
    body["merchant_name"] = "x" * rng.choice([70_000, 300_000])
    return key, json.dumps(body).encode(), headers


def _not_json(index: int, rng: random.Random) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, _value, headers = _valid(index)
    return (
        key,
        rng.choice([b"{not json", b"\xff\xfe\x00garbage", b"", b"123456789012345678901234567890"]),
        headers,
    )


def _no_cloudevent_headers(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, _headers = _valid(index)
    return key, value, []


def _non_utf8_header_value(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, headers = _valid(index)
    return key, value, [(name, b"\xff\xfe" + raw if name == "ce_source" else raw) for name, raw in headers]


def _repeated_id(
    index: int, rng: random.Random
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, headers = _valid(index)
    return key, value, [*headers, ("ce_id", b"another-id")]


KINDS: dict[
    str, Callable[[int, random.Random], tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]
] = {
    "deep_nesting": _deep_nesting,
    "huge_nul_header": _huge_nul_header,
    "control_byte_headers": _control_byte_headers,
    "null_value": _null_value,
    "null_key_wrong_types": _null_key_wrong_types,
    "oversize": _oversize,
    "not_json": _not_json,
    "no_cloudevent_headers": _no_cloudevent_headers,
    "non_utf8_header_value": _non_utf8_header_value,
    "repeated_id": _repeated_id,
}


VALID_EVENT_KINDS = frozenset({"control_byte_headers"})


def hostile_records(count: int, seed: int = 5) -> list[RawRecord]:
    """`count` hostile records cycling through every kind."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    records = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        key, value, headers = KINDS[kind](index, rng)
        records.append(RawRecord(key, value, [(CHAOS_ID, f"h-{index}".encode()), *headers], kind))
    return records
