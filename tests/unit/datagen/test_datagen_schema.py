"""The payments contract: column names and types, value constraints, order and ids."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from rtinfer.datagen import PAYMENTS_SCHEMA, GeneratedData, GeneratorConfig

pytestmark = pytest.mark.unit

# Every code the generator can emit (ISO 4217 alpha-3, ISO 3166-1 alpha-2), written out by hand.
EMITTED_CURRENCIES = {
    "EUR", "GBP", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "CAD", "AUD",
    "BRL", "MXN", "TRY", "ZAR", "THB", "AED", "INR",
}  # fmt: skip
EMITTED_COUNTRIES = {
    "DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT", "FI", "GB", "US", "CH", "SE",
    "NO", "DK", "PL", "CZ", "CA", "AU", "BR", "MX", "TR", "ZA", "TH", "AE", "IN",
}  # fmt: skip
TIMESTAMP = pa.timestamp("us", tz="UTC")
EXPECTED_COLUMNS = [
    ("payment_id", pa.string()),
    ("card_id", pa.string()),
    ("merchant_id", pa.string()),
    ("amount", pa.float64()),
    ("currency", pa.string()),
    ("timestamp", TIMESTAMP),
    ("country", pa.string()),
    ("merchant_category", pa.string()),
    ("channel", pa.string()),
    ("card_type", pa.string()),
    ("is_fraud", pa.int8()),
    ("fraud_pattern", pa.string()),
    ("label_available_at", TIMESTAMP),
    ("label_delay_s", pa.float64()),
]


def test_payments_schema_is_the_contract(small_data: GeneratedData):
    assert [(field.name, field.type) for field in PAYMENTS_SCHEMA] == EXPECTED_COLUMNS
    assert small_data.tables.payments.schema.equals(PAYMENTS_SCHEMA)


def test_payments_dtypes(payments: pd.DataFrame):
    assert str(payments["timestamp"].dtype) == "datetime64[us, UTC]"
    assert str(payments["label_available_at"].dtype) == "datetime64[us, UTC]"
    assert payments["amount"].dtype == np.float64
    assert payments["label_delay_s"].dtype == np.float64
    assert payments["is_fraud"].dtype == np.int8


def test_codes_are_valid(payments: pd.DataFrame):
    assert set(payments["currency"]) <= EMITTED_CURRENCIES
    assert set(payments["country"]) <= EMITTED_COUNTRIES
    assert payments["merchant_category"].str.fullmatch(r"[0-9]{4}").all()
    assert set(payments["channel"]) == {"pos", "ecom", "atm", "moto"}
    assert set(payments["card_type"]) == {"credit", "debit", "prepaid"}
    assert set(payments["fraud_pattern"]) == {
        "none", "card_testing", "new_merchant_large", "velocity", "compromised_merchant",
    }  # fmt: skip
    assert ((payments["fraud_pattern"] != "none") == (payments["is_fraud"] == 1)).all()


def test_amounts_are_positive_finite_cents(payments: pd.DataFrame):
    amount = payments["amount"].to_numpy()
    assert np.isfinite(amount).all()
    assert (amount > 0).all() and (amount <= 1_000_000).all()
    assert np.allclose(amount, np.round(amount, 2), rtol=0, atol=1e-9)


def test_ids_are_unique_safe_and_sorted(payments: pd.DataFrame, small_config: GeneratorConfig):
    ids = payments["payment_id"]
    assert ids.is_unique
    assert ids.str.len().max() <= 64
    assert ids.str.fullmatch(rf"pay-{small_config.seed}-[0-9]{{9}}").all()
    assert payments["card_id"].str.fullmatch(r"card-[0-9]+").all()
    assert payments["merchant_id"].str.fullmatch(r"m-[0-9]+").all()
    ordered = payments.sort_values(["timestamp", "payment_id"], kind="stable")
    assert ordered.index.equals(payments.index)


def test_timestamps_fall_in_the_period(payments: pd.DataFrame, small_config: GeneratorConfig):
    start = pd.Timestamp(small_config.start)
    assert payments["timestamp"].min() >= start
    assert payments["timestamp"].max() < start + timedelta(days=small_config.days)


def test_rows_agree_with_cards_and_merchants(
    payments: pd.DataFrame, cards: pd.DataFrame, merchants: pd.DataFrame
):
    merged = payments.merge(merchants, on="merchant_id", suffixes=("", "_merchant"))
    assert (merged["country"] == merged["country_merchant"]).all()
    assert (merged["merchant_category"] == merged["merchant_category_merchant"]).all()
    with_card = payments.merge(cards, on="card_id", suffixes=("", "_card"))
    assert (with_card["card_type"] == with_card["card_type_card"]).all()
    assert (with_card["currency"] == with_card["currency_card"]).mean() > 0.85  # mostly home currency


def test_cards_and_merchants_tables(
    cards: pd.DataFrame, merchants: pd.DataFrame, small_config: GeneratorConfig
):
    assert len(cards) == small_config.cards and cards["card_id"].is_unique
    assert set(cards["home_country"]) <= EMITTED_COUNTRIES
    assert set(cards["currency"]) <= EMITTED_CURRENCIES
    assert cards["daily_rate"].between(0.5, 4.0).all()
    assert len(merchants) == small_config.merchants and merchants["merchant_id"].is_unique
    assert merchants["merchant_category"].map(lambda code: re.fullmatch(r"[0-9]{4}", code) is not None).all()
    assert merchants["risk_score"].between(0, 1).all()
    assert set(merchants["risk_tier"]) <= {"low", "medium", "high"}
    compromised = merchants[merchants["compromised"]]
    assert len(compromised) >= 1
    assert (compromised["compromise_start"] < compromised["compromise_end"]).all()
    assert merchants.loc[~merchants["compromised"], "compromise_start"].isna().all()


def test_config_rejects_naive_start_and_bad_ranges():
    with pytest.raises(ValueError, match="timezone"):
        GeneratorConfig(seed=1, start=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="fraud_rate"):
        GeneratorConfig(seed=1, fraud_rate=0.5)
    with pytest.raises(ValueError, match="drift_from_day"):
        GeneratorConfig(seed=1, days=10, drift_from_day=10)
