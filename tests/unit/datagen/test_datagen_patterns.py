"""Each fraud pattern is present and has its documented signature; labels follow the delay rule."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from rtinfer.datagen import GeneratorConfig, generate

pytestmark = pytest.mark.unit

DAY_S = 86_400.0


def _rows(payments: pd.DataFrame, pattern: str) -> pd.DataFrame:
    rows = payments[payments["fraud_pattern"] == pattern]
    assert len(rows) > 0, f"{pattern} is missing"
    return rows


def test_card_testing_is_small_amounts_within_minutes_on_one_card(
    payments: pd.DataFrame, cards: pd.DataFrame
):
    rows = _rows(payments, "card_testing")
    assert rows["amount"].between(0.5, 5.0).all()
    assert (rows["channel"] == "ecom").mean() > 0.7
    assert set(rows["channel"]) <= {"ecom", "moto"}
    for _, burst in rows.groupby("card_id"):
        assert 5 <= len(burst) <= 30
        assert burst["merchant_id"].nunique() == 1
        assert burst["timestamp"].max() - burst["timestamp"].min() <= timedelta(minutes=15)
    home = rows.merge(cards, on="card_id", suffixes=("", "_card"))
    assert (home["currency"] == home["currency_card"]).all()


def test_velocity_is_many_distinct_merchants_within_an_hour(payments: pd.DataFrame):
    rows = _rows(payments, "velocity")
    for _, incident in rows.groupby("card_id"):
        assert 6 <= len(incident) <= 12
        assert incident["merchant_id"].nunique() == len(incident)
        assert incident["timestamp"].max() - incident["timestamp"].min() < timedelta(hours=1)


def test_new_merchant_large_is_a_first_visit_far_above_the_card_median(
    payments: pd.DataFrame, cards: pd.DataFrame
):
    rows = _rows(payments, "new_merchant_large")
    assert set(rows["merchant_category"]) <= {"5732", "5944", "4511"}
    position = pd.Series(np.arange(len(payments)), index=payments.index)
    first_visit = position.groupby([payments["card_id"], payments["merchant_id"]]).transform("min")
    assert (first_visit[rows.index] == position[rows.index]).all()

    card_currency = payments["card_id"].map(cards.set_index("card_id")["currency"])
    legit_home = payments[(payments["is_fraud"] == 0) & (payments["currency"] == card_currency)]
    median = legit_home.groupby("card_id")["amount"].median()
    known = rows[rows["card_id"].isin(median.index)]
    assert len(known) > 0
    assert (known["amount"].to_numpy() >= 5 * median[known["card_id"]].to_numpy()).all()
    typical = cards.set_index("card_id")["typical_amount"]
    assert np.allclose(typical[median.index], median)


def test_compromised_merchant_victims_shopped_there_during_the_window(
    payments: pd.DataFrame, merchants: pd.DataFrame
):
    rows = _rows(payments, "compromised_merchant")
    windows = merchants[merchants["compromised"]].set_index("merchant_id")
    visits = payments[(payments["is_fraud"] == 0) & payments["merchant_id"].isin(windows.index)]
    start = visits["merchant_id"].map(windows["compromise_start"])
    end = visits["merchant_id"].map(windows["compromise_end"])
    visits = visits[(visits["timestamp"] >= start) & (visits["timestamp"] < end)]
    first_visit = visits.groupby("card_id")["timestamp"].min()
    assert rows["card_id"].isin(first_visit.index).all()
    lead = rows["timestamp"] - rows["card_id"].map(first_visit)
    assert (lead >= timedelta(hours=2)).all()


def test_label_delay_follows_the_rule(payments: pd.DataFrame):
    gap = (payments["label_available_at"] - payments["timestamp"]).dt.total_seconds()
    assert np.array_equal(gap.to_numpy(), payments["label_delay_s"].to_numpy())
    legit = payments["is_fraud"] == 0
    assert (payments.loc[legit, "label_delay_s"] == 30 * DAY_S).all()
    fraud_delay = payments.loc[~legit, "label_delay_s"]
    assert fraud_delay.between(1 * DAY_S, 60 * DAY_S).all()
    assert 4 * DAY_S <= fraud_delay.median() <= 11 * DAY_S
    assert (payments["label_available_at"] >= payments["timestamp"]).all()


def test_fraud_rate_is_in_the_documented_range(payments: pd.DataFrame):
    assert 0.005 <= payments["is_fraud"].mean() <= 0.02


def test_fraud_rate_is_configurable(small_config: GeneratorConfig, payments: pd.DataFrame):
    doubled = generate(
        GeneratorConfig(seed=small_config.seed, cards=small_config.cards, merchants=small_config.merchants,
                        days=small_config.days, fraud_rate=0.02)
    ).payments  # fmt: skip
    assert 1.5 <= doubled["is_fraud"].mean() / payments["is_fraud"].mean() <= 2.6
    legit_only = generate(GeneratorConfig(seed=1, cards=100, merchants=40, days=5, fraud_rate=0.0)).payments
    assert legit_only["is_fraud"].sum() == 0


def test_legitimate_behaviour_is_daytime_and_category_priced(payments: pd.DataFrame):
    legit = payments[payments["is_fraud"] == 0]
    median = legit[legit["currency"] == "EUR"].groupby("merchant_category")["amount"].median()
    assert median["5814"] < median["5411"] < median["5732"] < median["4511"]
    european = legit[legit["country"].isin(["DE", "FR", "ES", "IT", "NL"])]
    local_hour = (european["timestamp"] + timedelta(hours=1)).dt.hour
    assert (local_hour.between(9, 20)).sum() > 4 * (local_hour.between(0, 5)).sum()
    per_card_day = legit.groupby("card_id").size() / 21
    assert 1.0 <= per_card_day.mean() <= 2.5
