"""Payments as parallel numpy columns, plus the pricing rules every pattern shares."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from rtinfer.datagen.catalog import ATM, COUNTRY_CURRENCY, CURRENCY_FX, MCC_CHANNEL_CUMULATIVE
from rtinfer.datagen.config import PATTERN_CODE, FraudPattern
from rtinfer.datagen.sampling import LEGIT_LABEL_MATURITY_S

MAX_AMOUNT = 1_000_000.0
FOREIGN_IN_MERCHANT_CURRENCY = 0.6  # share of cross-currency payments charged in the merchant's currency


@dataclass(frozen=True, slots=True)
class Rows:
    """A batch of payments, one numpy array per attribute (indices into the catalog and populations)."""

    card: np.ndarray  # int32 card index
    merchant: np.ndarray  # int32 merchant index
    t_us: np.ndarray  # int64 microseconds since the epoch, UTC
    amount: np.ndarray  # float64 in `currency`, rounded to cents
    currency: np.ndarray  # int16 index into CURRENCY_CODES
    channel: np.ndarray  # int8 index into CHANNELS
    pattern: np.ndarray  # int8 index into PATTERNS
    delay_s: np.ndarray  # float64 seconds until the label is known
    seq: np.ndarray  # int64 stable rank within the batch; breaks timestamp ties

    def __len__(self) -> int:
        return int(self.card.size)

    def select(self, keep: np.ndarray) -> Rows:
        return Rows(**{item.name: getattr(self, item.name)[keep] for item in fields(self)})

    def replace(self, where: np.ndarray, **columns: np.ndarray) -> Rows:
        """A copy where the rows selected by `where` take the given column values."""
        updated = {}
        for item in fields(self):
            column = getattr(self, item.name)
            if item.name in columns:
                column = column.copy()
                column[where] = columns[item.name]
            updated[item.name] = column
        return Rows(**updated)

    @staticmethod
    def concat(batches: list[Rows]) -> Rows:
        return Rows(
            **{item.name: np.concatenate([getattr(b, item.name) for b in batches]) for item in fields(Rows)}
        )


def make_rows(
    *,
    card: np.ndarray,
    merchant: np.ndarray,
    t_us: np.ndarray,
    amount: np.ndarray,
    currency: np.ndarray,
    channel: np.ndarray,
    pattern: FraudPattern,
    delay_s: np.ndarray | None = None,
) -> Rows:
    """A batch of one pattern; legitimate rows get the fixed label maturity."""
    count = card.size
    if delay_s is None:
        delay_s = np.full(count, LEGIT_LABEL_MATURITY_S)
    return Rows(
        card=card.astype(np.int32),
        merchant=merchant.astype(np.int32),
        t_us=t_us.astype(np.int64),
        amount=amount.astype(np.float64),
        currency=currency.astype(np.int16),
        channel=channel.astype(np.int8),
        pattern=np.full(count, PATTERN_CODE[pattern], dtype=np.int8),
        delay_s=delay_s.astype(np.float64),
        seq=np.arange(count, dtype=np.int64),
    )


def channel_for(mcc: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A channel drawn from the category's channel mix."""
    cumulative = MCC_CHANNEL_CUMULATIVE[mcc]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), 3).astype(np.int8)


def currency_for(
    card_country: np.ndarray, merchant_country: np.ndarray, channel: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """The card's home currency, except some cross-currency payments and all ATM cash abroad."""
    home = COUNTRY_CURRENCY[card_country]
    local = COUNTRY_CURRENCY[merchant_country]
    in_local = (u < FOREIGN_IN_MERCHANT_CURRENCY) | (channel == ATM)
    return np.where(in_local, local, home).astype(np.int16)


def price(amount_eur: np.ndarray, currency: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Convert euro amounts to the payment currency: cents, ATM cash in multiples of 10."""
    amount = np.clip(amount_eur, 0.5, 50_000.0) * CURRENCY_FX[currency]
    cash = np.maximum(np.round(amount / 10.0) * 10.0, 10.0)
    return np.minimum(np.where(channel == ATM, cash, np.round(amount, 2)), MAX_AMOUNT)
