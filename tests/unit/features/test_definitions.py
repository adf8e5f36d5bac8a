"""The one feature definition: windows, first payment, late events, duplicates, label delay."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from services.fraud.features import (
    DAY,
    HOUR,
    MINUTE,
    card_profile,
    latest_rolling_row,
    merchant_profile,
    request_features,
    request_features_frame,
    rolling_features,
)

pytestmark = pytest.mark.unit
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _rolling(times: list[float], amounts: list[float], merchants: list[str]) -> dict[str, np.ndarray]:
    return rolling_features(np.array(times), np.array(amounts), merchants)


def test_first_payment_counts_only_itself() -> None:
    rows = _rolling([T0], [25.0], ["m-1"])
    assert rows["card_count_10m"][0] == 1
    assert rows["card_count_24h"][0] == 1
    assert rows["card_amount_sum_1h"][0] == 25.0
    assert rows["card_distinct_merchants_24h"][0] == 1
    assert rows["card_last_payment_ts"][0] == T0


def test_window_is_open_at_start_and_closed_at_end() -> None:
    # Exactly 10 minutes apart: the older payment has left the (t - 10 min, t] window.
    rows = _rolling([T0, T0 + 10 * MINUTE, T0 + 10 * MINUTE + 1], [1.0, 2.0, 4.0], ["a", "b", "a"])
    assert list(rows["card_count_10m"]) == [1, 1, 2]
    assert list(rows["card_count_1h"]) == [1, 2, 3]
    assert list(rows["card_amount_sum_1h"]) == [1.0, 3.0, 7.0]
    assert list(rows["card_distinct_merchants_24h"]) == [1, 2, 2]


def test_day_window_boundaries() -> None:
    times = [T0, T0 + DAY - 1, T0 + DAY, T0 + 2 * DAY + 1]
    rows = _rolling(times, [10.0, 20.0, 30.0, 40.0], ["a", "b", "c", "a"])
    assert list(rows["card_count_24h"]) == [1, 2, 2, 1]
    assert list(rows["card_amount_sum_24h"]) == [10.0, 30.0, 50.0, 40.0]
    assert list(rows["card_distinct_merchants_24h"]) == [1, 2, 2, 1]


def test_late_event_within_tolerance_gives_the_in_order_result() -> None:
    times = np.array([T0, T0 + 5 * MINUTE, T0 + 20 * MINUTE])
    amounts = np.array([5.0, 7.0, 11.0])
    merchants = ["a", "b", "c"]
    in_order = latest_rolling_row(times, amounts, merchants)
    shuffled = [2, 0, 1]  # the 5-minute payment arrives last
    late = latest_rolling_row(times[shuffled], amounts[shuffled], [merchants[i] for i in shuffled])
    assert late == in_order


def test_duplicate_event_is_a_set_member_not_a_second_payment() -> None:
    # The writer's state is a set keyed by event id; the definition sees each payment once.
    history = {("evt-1", T0, 9.0, "a"), ("evt-2", T0 + MINUTE, 3.0, "b")}
    history.add(("evt-1", T0, 9.0, "a"))  # redelivery
    ordered = sorted(history, key=lambda item: item[1])
    row = latest_rolling_row(
        np.array([t for _, t, _, _ in ordered]),
        np.array([a for _, _, a, _ in ordered]),
        [m for *_, m in ordered],
    )
    assert row["card_count_1h"] == 2
    assert row["card_amount_sum_1h"] == 12.0


def test_card_profile_mean_over_seven_days_up_to_cutoff() -> None:
    times = np.array([T0, T0 + 3 * DAY, T0 + 8 * DAY])
    cutoffs = np.array([T0 + DAY, T0 + 7 * DAY, T0 + 9 * DAY, T0 - DAY])
    profile = card_profile(times, np.array([10.0, 30.0, 50.0]), cutoffs)
    # (cutoff - 7 d, cutoff]: at day 7 the first payment (exactly 7 d old) has left.
    assert profile["card_mean_amount_7d"][:3].tolist() == [10.0, 30.0, 40.0]
    assert np.isnan(profile["card_mean_amount_7d"][3])
    assert profile["card_count_7d"].tolist() == [1, 1, 2, 0]


def test_merchant_fraud_rate_uses_only_labels_known_at_cutoff() -> None:
    times = np.array([T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR])
    is_fraud = np.array([1.0, 0.0, 1.0, 0.0])
    known = times + np.array([5 * DAY, 30 * DAY, 1 * DAY, 30 * DAY])  # chargeback delays
    cutoffs = np.array([T0 + DAY, T0 + 2 * DAY, T0 + 6 * DAY])
    rates = merchant_profile(times, is_fraud, known, cutoffs)["merchant_fraud_rate_30d"]
    # day 1: no label known yet; day 2: the 1-day chargeback; day 6: both frauds known.
    assert rates.tolist() == [0.0, 0.25, 0.5]


def test_request_features_single_and_batch_agree() -> None:
    stamp = datetime(2026, 1, 1, 13, 45, tzinfo=UTC)
    single = request_features(80.0, stamp, "ecom", last_payment_ts=stamp.timestamp() - 90, card_mean=40.0)
    assert single == {
        "amount": 80.0,
        "hour_of_day": 13.0,
        "seconds_since_prev": 90.0,
        "amount_to_card_mean": 2.0,
        "channel_code": 1.0,
    }
    batch = request_features_frame(
        np.array([80.0, 5.0]),
        np.array([stamp.timestamp()] * 2),
        ["ecom", "pos"],
        np.array([stamp.timestamp() - 90, np.nan]),
        np.array([40.0, np.nan]),
    )
    assert {name: values[0] for name, values in batch.items()} == single
    assert np.isnan(batch["seconds_since_prev"][1])
    assert np.isnan(batch["amount_to_card_mean"][1])
    missing = request_features(5.0, stamp, "pos", last_payment_ts=None, card_mean=None)
    assert np.isnan(missing["seconds_since_prev"])
    assert np.isnan(missing["amount_to_card_mean"])
