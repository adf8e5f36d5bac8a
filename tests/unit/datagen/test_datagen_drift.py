"""Drift scenarios change what they say from drift_from_day on, and nothing before it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from rtinfer.datagen import Drift, GeneratedData, GeneratorConfig, generate, summarize
from rtinfer.datagen.catalog import COUNTRY_CODES, COUNTRY_UTC_OFFSET_H
from rtinfer.datagen.drift import AMOUNT_DRIFT_FACTOR

from .conftest import SMALL

pytestmark = pytest.mark.unit

DRIFT_DAY = 10


def _drifted(drift: Drift) -> pd.DataFrame:
    return generate(GeneratorConfig(seed=7, drift=drift, drift_from_day=DRIFT_DAY, **SMALL)).payments


def _split(payments: pd.DataFrame, config: GeneratorConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = pd.Timestamp(config.start) + timedelta(days=DRIFT_DAY)
    before = payments["timestamp"] < cut
    return payments[before].reset_index(drop=True), payments[~before].reset_index(drop=True)


@pytest.mark.parametrize("drift", list(Drift))
def test_nothing_changes_before_the_drift_day(
    drift: Drift, small_config: GeneratorConfig, payments: pd.DataFrame
):
    base_before, _ = _split(payments, small_config)
    drifted_before, _ = _split(_drifted(drift), small_config)
    pd.testing.assert_frame_equal(drifted_before, base_before)


def test_amounts_drift_scales_legitimate_amounts(small_config: GeneratorConfig, payments: pd.DataFrame):
    _, base = _split(payments, small_config)
    _, drifted = _split(_drifted(Drift.AMOUNTS), small_config)
    pd.testing.assert_frame_equal(drifted.drop(columns="amount"), base.drop(columns="amount"))
    legit = (base["is_fraud"] == 0) & (base["channel"] != "atm")
    ratio = drifted.loc[legit, "amount"] / base.loc[legit, "amount"]
    assert ratio.median() == pytest.approx(AMOUNT_DRIFT_FACTOR, rel=0.02)
    pd.testing.assert_series_equal(drifted.loc[~legit & (base["is_fraud"] == 1), "amount"],
                                   base.loc[~legit & (base["is_fraud"] == 1), "amount"])  # fmt: skip


def test_merchant_mix_drift_moves_cards_to_online_categories(
    small_config: GeneratorConfig, payments: pd.DataFrame
):
    online = ["5815", "5732", "5999", "4121"]
    _, base = _split(payments, small_config)
    _, drifted = _split(_drifted(Drift.MERCHANT_MIX), small_config)
    base_share = base.loc[base["is_fraud"] == 0, "merchant_category"].isin(online).mean()
    drifted_share = drifted.loc[drifted["is_fraud"] == 0, "merchant_category"].isin(online).mean()
    assert drifted_share > base_share + 0.5


def test_new_pattern_drift_adds_night_atm_cash_abroad(
    small_config: GeneratorConfig, payments: pd.DataFrame, cards: pd.DataFrame
):
    drifted = _drifted(Drift.NEW_PATTERN)
    before, after = _split(drifted, small_config)
    assert (before["fraud_pattern"] != "atm_night_abroad").all()
    atm = after[after["fraud_pattern"] == "atm_night_abroad"]
    assert len(atm) > 0
    assert (atm["channel"] == "atm").all() and (atm["merchant_category"] == "6011").all()
    home = atm["card_id"].map(cards.set_index("card_id")["home_country"])
    assert (atm["country"] != home).all()
    offset = atm["country"].map(dict(zip(COUNTRY_CODES, COUNTRY_UTC_OFFSET_H, strict=True)))
    local = atm["timestamp"] + pd.to_timedelta(offset, unit="h")
    first = local.groupby(atm["card_id"]).min()
    assert first.dt.hour.between(0, 3).all()
    assert (atm["amount"] > 0).all()
    _, base_after = _split(payments, small_config)
    others = after[after["fraud_pattern"] != "atm_night_abroad"].reset_index(drop=True)
    pd.testing.assert_frame_equal(others.drop(columns="payment_id"), base_after.drop(columns="payment_id"))


def test_drift_parameters_reach_the_summary():
    config = GeneratorConfig(seed=2, cards=80, merchants=40, days=6, drift=Drift.AMOUNTS)
    summary = summarize(generate(config))
    assert summary["parameters"]["drift"] == "amounts"
    assert summary["parameters"]["drift_from_day"] == 3


def test_default_data_has_no_drift_pattern(small_data: GeneratedData):
    assert np.all(small_data.payments["fraud_pattern"] != "atm_night_abroad")
