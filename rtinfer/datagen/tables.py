"""Arrow schemas of the three output files and the conversion of generated arrays into them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rtinfer.datagen.catalog import (
    CARD_TYPES,
    CHANNELS,
    COUNTRY_CODES,
    COUNTRY_CURRENCY,
    CURRENCY_CODES,
    MCC_CODES,
    MCC_NAMES,
)
from rtinfer.datagen.config import PATTERNS, GeneratorConfig
from rtinfer.datagen.population import Cards, Merchants
from rtinfer.datagen.rows import Rows

TIMESTAMP = pa.timestamp("us", tz="UTC")
PAYMENTS_SCHEMA = pa.schema(
    [
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
)
CARDS_SCHEMA = pa.schema(
    [
        ("card_id", pa.string()),
        ("home_country", pa.string()),
        ("currency", pa.string()),
        ("card_type", pa.string()),
        ("daily_rate", pa.float64()),
        ("spend_multiplier", pa.float64()),
        ("typical_amount", pa.float64()),
        ("preferred_merchants", pa.int32()),
    ]
)
MERCHANTS_SCHEMA = pa.schema(
    [
        ("merchant_id", pa.string()),
        ("country", pa.string()),
        ("currency", pa.string()),
        ("merchant_category", pa.string()),
        ("category_name", pa.string()),
        ("popularity", pa.float64()),
        ("risk_score", pa.float64()),
        ("risk_tier", pa.string()),
        ("compromised", pa.bool_()),
        ("compromise_start", TIMESTAMP),
        ("compromise_end", TIMESTAMP),
    ]
)
RISK_TIERS = ("low", "medium", "high")
RISK_TIER_BOUNDS = np.array([0.25, 0.45])  # risk_score below 0.25 is low, below 0.45 medium


def numbered_ids(prefix: str, numbers: np.ndarray, width: int = 0) -> pa.Array:
    """Strings prefix + number, zero-padded to `width` digits."""
    digits = pc.cast(pa.array(numbers), pa.string())
    if width:
        digits = pc.utf8_lpad(digits, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _codes(vocabulary: tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(vocabulary, pa.string()).take(pa.array(index.astype(np.int64)))


def _timestamps(t_us: np.ndarray) -> pa.Array:
    return pa.array(t_us.astype(np.int64), pa.int64()).cast(TIMESTAMP)


def time_order(rows: Rows) -> np.ndarray:
    """File order: timestamp, then card, pattern and rank in batch (payment ids follow this order)."""
    return np.lexsort((rows.seq, rows.pattern, rows.card, rows.t_us))


def payments_table(config: GeneratorConfig, rows: Rows, cards: Cards, merchants: Merchants) -> pa.Table:
    rows = rows.select(time_order(rows))
    delay_us = np.round(rows.delay_s * 1_000_000).astype(np.int64)
    merchant_mcc = merchants.mcc[rows.merchant]
    columns = [
        numbered_ids(f"pay-{config.seed}-", np.arange(len(rows)), width=9),
        numbered_ids("card-", rows.card),
        numbered_ids("m-", rows.merchant),
        pa.array(rows.amount, pa.float64()),
        _codes(CURRENCY_CODES, rows.currency),
        _timestamps(rows.t_us),
        _codes(COUNTRY_CODES, merchants.country[rows.merchant]),
        _codes(MCC_CODES, merchant_mcc),
        _codes(CHANNELS, rows.channel),
        _codes(CARD_TYPES, cards.card_type[rows.card]),
        pa.array((rows.pattern > 0).astype(np.int8), pa.int8()),
        _codes(tuple(pattern.value for pattern in PATTERNS), rows.pattern),
        _timestamps(rows.t_us + delay_us),
        pa.array(rows.delay_s, pa.float64()),
    ]
    return pa.Table.from_arrays(columns, schema=PAYMENTS_SCHEMA)


def cards_table(cards: Cards, typical_amount: np.ndarray) -> pa.Table:
    columns = [
        numbered_ids("card-", np.arange(len(cards))),
        _codes(COUNTRY_CODES, cards.country),
        _codes(CURRENCY_CODES, COUNTRY_CURRENCY[cards.country]),
        _codes(CARD_TYPES, cards.card_type),
        pa.array(cards.daily_rate, pa.float64()),
        pa.array(cards.spend, pa.float64()),
        pa.array(typical_amount, pa.float64(), from_pandas=True),  # NaN -> null: no home-currency payment
        pa.array(cards.preferred_count.astype(np.int32), pa.int32()),
    ]
    return pa.Table.from_arrays(columns, schema=CARDS_SCHEMA)


def merchants_table(merchants: Merchants) -> pa.Table:
    no_window = ~merchants.compromised
    columns = [
        numbered_ids("m-", np.arange(len(merchants))),
        _codes(COUNTRY_CODES, merchants.country),
        _codes(CURRENCY_CODES, COUNTRY_CURRENCY[merchants.country]),
        _codes(MCC_CODES, merchants.mcc),
        _codes(MCC_NAMES, merchants.mcc),
        pa.array(np.round(merchants.popularity, 8), pa.float64()),
        pa.array(merchants.risk_score, pa.float64()),
        _codes(RISK_TIERS, np.searchsorted(RISK_TIER_BOUNDS, merchants.risk_score, side="right")),
        pa.array(merchants.compromised, pa.bool_()),
        pa.array(merchants.compromise_start_us, TIMESTAMP, mask=no_window),
        pa.array(merchants.compromise_end_us, TIMESTAMP, mask=no_window),
    ]
    return pa.Table.from_arrays(columns, schema=MERCHANTS_SCHEMA)
