"""Benchmark arithmetic: latency matching by id, per-event stage weighting, feature lag."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks.features_writer import Push, event_lags_s
from benchmarks.kafka_io import OutRecord
from benchmarks.latency import Percentiles, StageLog, latencies_ms, rate_per_s
from benchmarks.phases import tagged_records

pytestmark = pytest.mark.unit


def _record(stamp_ms: int, **headers: str) -> OutRecord:
    return OutRecord(stamp_ms, {name: value.encode() for name, value in headers.items()}, b"{}")


def test_latency_is_output_minus_input_timestamp_first_output_wins() -> None:
    inputs = [_record(1000, ce_id="a"), _record(1010, ce_id="b"), _record(1020, ce_id="c")]
    outputs = [
        _record(1012, ce_causationid="a"),
        _record(1030, ce_causationid="b"),
        _record(1090, ce_causationid="a"),  # a redelivery's duplicate
        _record(1050, ce_causationid="other"),  # not an input of this phase
    ]

    assert sorted(latencies_ms(inputs, outputs, "ce_causationid")) == [12.0, 20.0]


def test_rate_counts_records_over_their_timestamp_span() -> None:
    records = [_record(1000 + 10 * index) for index in range(101)]

    assert rate_per_s(records) == pytest.approx(101 / 1.0)


def test_stage_log_weights_each_batch_by_its_events() -> None:
    log = StageLog()
    log.add({"model": 10.0}, events=1)
    log.add({"model": 100.0}, events=99)

    stages = log.take()

    assert stages["model"].count == 100
    assert stages["model"].p50 == 100.0
    assert log.take() == {}


def test_percentiles_of_nothing_are_empty() -> None:
    assert Percentiles.of([]).count == 0


def _payment(card: str, event_s: float) -> OutRecord:
    stamp = pd.Timestamp(event_s, unit="s", tz="UTC").isoformat()
    return OutRecord(0, {}, json.dumps({"card_id": card, "timestamp": stamp}).encode())


def test_feature_lag_is_the_first_push_covering_the_event() -> None:
    pushes = [
        Push(started_s=100.00, ended_s=100.05, card_times={"c1": 99.0}),
        Push(started_s=100.10, ended_s=100.20, card_times={"c1": 100.1, "c2": 100.1}),
    ]
    inputs = [_payment("c1", 99.0), _payment("c1", 100.1), _payment("c2", 100.0), _payment("c3", 100.0)]

    lags, unseen = event_lags_s(inputs, pushes)

    assert lags == pytest.approx([1.05, 0.1, 0.2])
    assert unseen == 1


def test_tagged_records_cycle_the_payments_with_unique_ids() -> None:
    payments = pd.DataFrame(
        {
            "payment_id": [f"pay-{index}" for index in range(7)],
            "card_id": "card-1",
            "merchant_id": "m-1",
            "amount": 12.5,
            "currency": "EUR",
            "timestamp": pd.Timestamp("2026-01-01", tz="UTC"),
            "country": "FR",
            "merchant_category": "5411",
            "channel": "pos",
            "card_type": "debit",
        }
    )

    records = tagged_records(payments, "s1", 20)

    ids = [dict(record.headers)["ce_id"].decode() for record in records]
    assert len(ids) == len(set(ids)) == 20
    assert all(record_id.startswith("s1.") for record_id in ids)
