"""Legitimate card payments: habitual merchants, daytime hours, lognormal amounts by category."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtinfer.datagen.catalog import COUNTRY_CURRENCY, COUNTRY_UTC_OFFSET_H, MCC_MEDIAN_EUR, MCC_SIGMA
from rtinfer.datagen.config import HOUR_US, FraudPattern, GeneratorConfig, stream
from rtinfer.datagen.population import Cards, Merchants
from rtinfer.datagen.rows import Rows, channel_for, currency_for, make_rows, price
from rtinfer.datagen.sampling import local_hour, local_time_us, standard_normal

PREFERENCE_SKEW = 2.2  # position in the preferred list ~ K * u**2.2: the first few dominate
EXPLORE_SHARE = 0.04  # share of payments at a merchant outside the preferred list
EXPLORE_DOMESTIC_SHARE = 0.7


@dataclass(frozen=True, slots=True)
class LegitDraws:
    """The per-row draws behind channel, currency and amount, kept so a drift can re-price rows."""

    z_amount: np.ndarray  # standard normal behind each amount
    u_channel: np.ndarray
    u_currency: np.ndarray

    def take(self, where: np.ndarray) -> LegitDraws:
        return LegitDraws(self.z_amount[where], self.u_channel[where], self.u_currency[where])


@dataclass(frozen=True, slots=True)
class LegitPayments:
    rows: Rows
    draws: LegitDraws


def legit_amount_eur(mcc: np.ndarray, z_amount: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Category median times the card's spend level, lognormal spread per category."""
    return MCC_MEDIAN_EUR[mcc] * np.exp(MCC_SIGMA[mcc] * z_amount) * spend


def priced(
    merchant: np.ndarray,
    card: np.ndarray,
    draws: LegitDraws,
    *,
    cards: Cards,
    merchants: Merchants,
    factor: float = 1.0,
) -> dict[str, np.ndarray]:
    """Merchant, channel, currency and amount columns of legitimate payments at these merchants.

    Args:
        factor: multiplies the euro amount before conversion (the "amounts" drift).
    """
    mcc = merchants.mcc[merchant]
    channel = channel_for(mcc, draws.u_channel)
    currency = currency_for(cards.country[card], merchants.country[merchant], channel, draws.u_currency)
    amount_eur = legit_amount_eur(mcc, draws.z_amount, cards.spend[card]) * factor
    return {
        "merchant": merchant,
        "channel": channel,
        "currency": currency,
        "amount": price(amount_eur, currency, channel),
    }


def generate_legit(config: GeneratorConfig, cards: Cards, merchants: Merchants) -> LegitPayments:
    """Poisson(daily_rate * days) payments per card, in card order (the order is the rows' `seq`)."""
    rng = stream(config.seed, "legit")
    counts = rng.poisson(cards.daily_rate * config.days)
    card = np.repeat(np.arange(len(cards), dtype=np.int32), counts)
    count = card.size

    sizes = cards.preferred_count[card]
    position = np.minimum((sizes * rng.random(count) ** PREFERENCE_SKEW).astype(np.int64), sizes - 1)
    merchant = cards.preferred[cards.preferred_offsets[card] + position]
    explore = rng.random(count) < EXPLORE_SHARE
    u_domestic, u_pick = rng.random(count), rng.random(count)
    merchant[explore] = merchants.pool().sample(
        cards.country[card[explore]], u_domestic[explore], u_pick[explore], EXPLORE_DOMESTIC_SHARE
    )

    # Wall-clock time at the merchant, wrapped into the period so every payment falls inside it.
    day = rng.integers(0, config.days, count)
    hour = local_hour(rng.random(count))
    within_hour = rng.integers(0, HOUR_US, count)
    offset = local_time_us(day, hour, within_hour, COUNTRY_UTC_OFFSET_H[merchants.country[merchant]])
    t_us = config.start_us + np.mod(offset, config.span_us)

    draws = LegitDraws(
        z_amount=standard_normal(rng.random(count), rng.random(count)),
        u_channel=rng.random(count),
        u_currency=rng.random(count),
    )
    columns = priced(merchant, card, draws, cards=cards, merchants=merchants)
    return LegitPayments(make_rows(card=card, t_us=t_us, pattern=FraudPattern.NONE, **columns), draws)


def typical_amounts(legit: Rows, cards: Cards) -> np.ndarray:
    """Each card's median legitimate amount in its home currency (NaN when it has none)."""
    median = np.full(len(cards), np.nan)
    home = legit.currency == COUNTRY_CURRENCY[cards.country[legit.card]]
    if not home.any():
        return median
    order = np.lexsort((legit.amount[home], legit.card[home]))
    card, amount = legit.card[home][order], legit.amount[home][order]
    ids = np.arange(len(cards))
    starts = np.searchsorted(card, ids, side="left")
    sizes = np.searchsorted(card, ids, side="right") - starts
    has = sizes > 0
    low = amount[starts[has] + (sizes[has] - 1) // 2]
    high = amount[starts[has] + sizes[has] // 2]
    median[has] = (low + high) / 2.0
    return median
