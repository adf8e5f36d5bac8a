"""The demo's replay: stream boundaries and batches that keep training's feature semantics."""

from __future__ import annotations

import pandas as pd
import pytest

from rtinfer.demo.prepare import split
from rtinfer.demo.stream import replay_batches

pytestmark = pytest.mark.unit


def test_a_batch_never_holds_two_payments_of_one_card() -> None:
    cards = ["a", "b", "c", "a", "d", "e", "f", "g", "b", "b"]
    bounds = replay_batches(cards, max_size=4)
    assert bounds == [(0, 3), (3, 7), (7, 9), (9, 10)]
    assert [i for start, end in bounds for i in range(start, end)] == list(range(len(cards)))
    for start, end in bounds:
        assert len(set(cards[start:end])) == end - start <= 4


def test_no_cards_no_batches() -> None:
    assert replay_batches([], max_size=50) == []


def test_the_stream_starts_at_the_midnight_before_the_last_events() -> None:
    times = pd.date_range("2026-01-01 06:00", periods=96, freq="1h", tz="UTC")
    payments = pd.DataFrame({"timestamp": times, "payment_id": [f"p{i:03d}" for i in range(96)]})
    history, stream = split(payments.sample(frac=1, random_state=1), 25)  # the last 25 start at 05:00
    assert stream["timestamp"].min() == pd.Timestamp("2026-01-04 00:00", tz="UTC")
    assert (len(history), len(stream)) == (66, 30)
    assert history["timestamp"].max() < stream["timestamp"].min()
    assert stream["timestamp"].is_monotonic_increasing


def test_a_stream_longer_than_the_history_keeps_some_history() -> None:
    times = pd.date_range("2026-01-01 06:00", periods=10, freq="1h", tz="UTC")
    payments = pd.DataFrame({"timestamp": times, "payment_id": [f"p{i}" for i in range(10)]})
    history, stream = split(payments, 8)
    assert (len(history), len(stream)) == (2, 8)
