"""Fraud tied to merchants: compromised (skimmed) merchants, and a large first payment at a new merchant."""

from __future__ import annotations

import numpy as np

from rtinfer.datagen.catalog import COUNTRY_CURRENCY, COUNTRY_UTC_OFFSET_H, CURRENCY_FX, LARGE_PURCHASE_MCCS
from rtinfer.datagen.config import DAY_US, HOUR_US, MINUTE_US, FraudPattern, GeneratorConfig, stream
from rtinfer.datagen.population import Cards, Merchants
from rtinfer.datagen.rows import MAX_AMOUNT, Rows, channel_for, currency_for, make_rows, price
from rtinfer.datagen.sampling import (
    fraud_label_delay_s,
    incidents,
    local_hour,
    local_time_us,
    lognormal,
    pick_cards,
    run_starts,
)

COMPROMISE_FRAUDS_PER_VICTIM = (1, 4)  # uniform
COMPROMISE_DELAY_MEDIAN_US, COMPROMISE_DELAY_SIGMA = 3 * DAY_US, 0.7  # visit -> first fraud, lognormal
COMPROMISE_DELAY_RANGE_US = (2 * HOUR_US, 20 * DAY_US)
COMPROMISE_GAP_US = (10 * MINUTE_US, 6 * HOUR_US)  # between a victim's fraudulent payments
COMPROMISE_MEDIAN_EUR, COMPROMISE_SIGMA = 120.0, 0.6
COMPROMISE_DOMESTIC_SHARE = 0.5
MAX_VICTIM_SHARE = 0.9
_DRAWS_PER_FRAUD = 9  # gap, 2 merchant, 2 amount, channel, currency, 2 label delay

LARGE_FACTOR = (10.0, 30.0)  # times the card's median legitimate amount
LARGE_MIN_EUR = 250.0
LARGE_CANDIDATES = 4  # merchants tried per incident until one is new to the card
LARGE_DOMESTIC_SHARE = 0.6


def compromise_visits(rows: Rows, merchants: Merchants) -> np.ndarray:
    """Row indices of each card's first payment at a merchant during its compromise window, by time."""
    merchant = rows.merchant
    inside = (
        merchants.compromised[merchant]
        & (rows.t_us >= merchants.compromise_start_us[merchant])
        & (rows.t_us < merchants.compromise_end_us[merchant])
    )
    visits = np.flatnonzero(inside)
    key = rows.card[visits].astype(np.int64) * len(merchants) + merchant[visits]
    order = np.lexsort((rows.seq[visits], rows.t_us[visits], key))
    visits, key = visits[order], key[order]
    visits = visits[run_starts(key)]
    return visits[np.lexsort((rows.seq[visits], rows.t_us[visits]))]


def victim_share(target_rows: float, visits: int) -> float:
    """Share of compromise visits that turn into fraud, so the pattern reaches its target rows."""
    if target_rows <= 0 or visits == 0:
        return 0.0
    mean_frauds = sum(COMPROMISE_FRAUDS_PER_VICTIM) / 2
    return min(MAX_VICTIM_SHARE, target_rows / (visits * mean_frauds))


def compromised_merchant(
    config: GeneratorConfig, cards: Cards, merchants: Merchants, legit: Rows, share: float
) -> Rows:
    """Cards that paid at a compromised merchant during its window see fraud days later elsewhere."""
    rng = stream(config.seed, FraudPattern.COMPROMISED_MERCHANT.value)
    visits = compromise_visits(legit, merchants)
    most = COMPROMISE_FRAUDS_PER_VICTIM[1]
    # One row of draws per visit in time order, so a visit's fate never depends on later visits.
    draws = rng.random((visits.size, 4 + most * _DRAWS_PER_FRAUD))
    victim = draws[:, 0] < share
    visits, draws = visits[victim], draws[victim]
    low, high = COMPROMISE_FRAUDS_PER_VICTIM
    frauds = low + np.floor(draws[:, 1] * (high - low + 1)).astype(np.int64)
    delay = np.clip(
        lognormal(draws[:, 2], draws[:, 3], COMPROMISE_DELAY_MEDIAN_US, COMPROMISE_DELAY_SIGMA),
        *COMPROMISE_DELAY_RANGE_US,
    ).astype(np.int64)
    per_fraud = draws[:, 4:].reshape(visits.size, most, _DRAWS_PER_FRAUD)
    gap = COMPROMISE_GAP_US[0] + per_fraud[..., 0] * (COMPROMISE_GAP_US[1] - COMPROMISE_GAP_US[0])
    gap[:, 0] = 0
    t_us = legit.t_us[visits][:, None] + delay[:, None] + np.cumsum(gap.astype(np.int64), axis=1)
    keep = (np.arange(most)[None, :] < frauds[:, None]) & (t_us < config.end_us)

    card = np.broadcast_to(legit.card[visits][:, None], keep.shape)[keep]
    u = per_fraud[keep]
    merchant = merchants.pool().sample(cards.country[card], u[:, 1], u[:, 2], COMPROMISE_DOMESTIC_SHARE)
    channel = channel_for(merchants.mcc[merchant], u[:, 5])
    currency = currency_for(cards.country[card], merchants.country[merchant], channel, u[:, 6])
    amount_eur = cards.spend[card] * lognormal(u[:, 3], u[:, 4], COMPROMISE_MEDIAN_EUR, COMPROMISE_SIGMA)
    return make_rows(
        card=card,
        merchant=merchant,
        t_us=t_us[keep],
        amount=price(amount_eur, currency, channel),
        currency=currency,
        channel=channel,
        pattern=FraudPattern.COMPROMISED_MERCHANT,
        delay_s=fraud_label_delay_s(u[:, 7], u[:, 8]),
    )


def _seen_by(earlier: Rows, n_merchants: int, key: np.ndarray, t_us: np.ndarray) -> np.ndarray:
    """Whether the card of each (card * n_merchants + merchant) key paid there at or before t_us."""
    known = earlier.card.astype(np.int64) * n_merchants + earlier.merchant
    order = np.lexsort((earlier.t_us, known))
    known, first_t = known[order], earlier.t_us[order]
    first = run_starts(known)
    known, first_t = known[first], first_t[first]
    if known.size == 0:
        return np.zeros(key.shape, dtype=bool)
    position = np.minimum(np.searchsorted(known, key), known.size - 1)
    return (known[position] == key) & (first_t[position] <= t_us)


def new_merchant_large(
    config: GeneratorConfig,
    cards: Cards,
    merchants: Merchants,
    *,
    earlier: Rows,
    typical_amount: np.ndarray,
    target_rows: float,
) -> Rows:
    """One payment far above the card's median, at a high-ticket merchant the card never paid before."""
    rng = stream(config.seed, FraudPattern.NEW_MERCHANT_LARGE.value)
    count = incidents(target_rows, 1.0)
    card = pick_cards(rng, len(cards), count)
    home = cards.country[card]
    day, hour = rng.integers(0, config.days, count), local_hour(rng.random(count))
    local = local_time_us(day, hour, rng.integers(0, HOUR_US, count), COUNTRY_UTC_OFFSET_H[home])
    t_us = config.start_us + np.mod(local, config.span_us)
    tries = count * LARGE_CANDIDATES
    pool = merchants.pool(np.isin(merchants.mcc, LARGE_PURCHASE_MCCS))
    candidates = pool.sample(
        np.repeat(home, LARGE_CANDIDATES), rng.random(tries), rng.random(tries), LARGE_DOMESTIC_SHARE
    ).reshape(count, LARGE_CANDIDATES)
    key = card[:, None].astype(np.int64) * len(merchants) + candidates
    new = ~_seen_by(earlier, len(merchants), key, t_us[:, None])
    merchant = candidates[np.arange(count), np.argmax(new, axis=1)]

    fx = CURRENCY_FX[COUNTRY_CURRENCY[home]]
    typical = np.where(np.isnan(typical_amount[card]), cards.spend[card] * 30.0 * fx, typical_amount[card])
    amount = np.maximum(typical * rng.uniform(*LARGE_FACTOR, count), LARGE_MIN_EUR * fx)
    channel = channel_for(merchants.mcc[merchant], rng.random(count))
    delay_s = fraud_label_delay_s(rng.random(count), rng.random(count))
    planted = make_rows(
        card=card,
        merchant=merchant,
        t_us=t_us,
        amount=np.minimum(np.round(amount, 2), MAX_AMOUNT),
        currency=COUNTRY_CURRENCY[home],
        channel=channel,
        pattern=FraudPattern.NEW_MERCHANT_LARGE,
        delay_s=delay_s,
    )
    # Two incidents on the same card and merchant: only the earlier one is a first payment there.
    chosen = card.astype(np.int64) * len(merchants) + merchant
    order = np.lexsort((np.arange(count), t_us, chosen))
    first = np.zeros(count, dtype=bool)
    first[order[run_starts(chosen[order])]] = True
    return planted.select(new.any(axis=1) & first)
