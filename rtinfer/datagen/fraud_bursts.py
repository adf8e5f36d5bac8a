"""Fraud planted as bursts on one card: card testing, velocity, and late-night ATM cash abroad."""

from __future__ import annotations

import numpy as np

from rtinfer.datagen.catalog import (
    ATM,
    ATM_MCC,
    CARD_TESTING_MCCS,
    COUNTRY_CURRENCY,
    COUNTRY_UTC_OFFSET_H,
    ECOM,
    MOTO,
)
from rtinfer.datagen.config import (
    HOUR_US,
    MINUTE_US,
    NEW_PATTERN_RATE,
    SECOND_US,
    FraudPattern,
    GeneratorConfig,
    stream,
)
from rtinfer.datagen.population import Cards, Merchants
from rtinfer.datagen.rows import Rows, channel_for, currency_for, make_rows, price
from rtinfer.datagen.sampling import (
    cumsum_within,
    fraud_label_delay_s,
    group_offsets,
    incidents,
    local_time_us,
    lognormal,
    pick_cards,
)

CARD_TESTING_ATTEMPTS = (5, 30)  # attempts per burst, uniform
CARD_TESTING_GAP_US = (1 * SECOND_US, 30 * SECOND_US)  # between attempts: a burst lasts < 15 minutes
CARD_TESTING_AMOUNT = (0.5, 5.0)  # in the card's currency
CARD_TESTING_ECOM_SHARE = 0.9  # the rest is mail/phone order
CARD_TESTING_DOMESTIC_SHARE = 0.3

VELOCITY_PAYMENTS = (6, 12)  # payments per incident, each at a different merchant, all within one hour
VELOCITY_MEDIAN_EUR, VELOCITY_SIGMA = 80.0, 0.6

ATM_NIGHT_WITHDRAWALS = (2, 4)
ATM_NIGHT_FIRST_HOUR = (0, 4)  # local time at the ATM of the first withdrawal: 00:00-03:59
ATM_NIGHT_GAP_US = (10 * MINUTE_US, 40 * MINUTE_US)
ATM_NIGHT_AMOUNT_EUR = (250.0, 800.0)
ATM_NIGHT_CANDIDATES = 4


def card_testing(config: GeneratorConfig, cards: Cards, merchants: Merchants, target_rows: float) -> Rows:
    """Bursts of tiny payments at one cheap online merchant, seconds apart, on one card."""
    rng = stream(config.seed, FraudPattern.CARD_TESTING.value)
    count = incidents(target_rows, sum(CARD_TESTING_ATTEMPTS) / 2)
    card = pick_cards(rng, len(cards), count)
    sizes = rng.integers(CARD_TESTING_ATTEMPTS[0], CARD_TESTING_ATTEMPTS[1] + 1, count)
    pool = merchants.pool(np.isin(merchants.mcc, CARD_TESTING_MCCS))
    merchant = pool.sample(
        cards.country[card], rng.random(count), rng.random(count), CARD_TESTING_DOMESTIC_SHARE
    )
    longest = CARD_TESTING_ATTEMPTS[1] * CARD_TESTING_GAP_US[1]
    start = config.start_us + rng.integers(0, config.span_us - longest, count)

    owner, rank = group_offsets(sizes)
    rows = owner.size
    gap = np.where(rank == 0, 0, rng.integers(*CARD_TESTING_GAP_US, rows))
    amount = np.clip(np.round(rng.uniform(*CARD_TESTING_AMOUNT, rows), 2), *CARD_TESTING_AMOUNT)
    channel = np.where(rng.random(rows) < CARD_TESTING_ECOM_SHARE, ECOM, MOTO)
    return make_rows(
        card=card[owner],
        merchant=merchant[owner],
        t_us=start[owner] + cumsum_within(gap, sizes),
        amount=amount,
        currency=COUNTRY_CURRENCY[cards.country[card[owner]]],
        channel=channel,
        pattern=FraudPattern.CARD_TESTING,
        delay_s=fraud_label_delay_s(rng.random(rows), rng.random(rows)),
    )


def velocity(config: GeneratorConfig, cards: Cards, merchants: Merchants, target_rows: float) -> Rows:
    """Several mid-sized payments on one card at as many distinct merchants within one hour."""
    rng = stream(config.seed, FraudPattern.VELOCITY.value)
    count = incidents(target_rows, sum(VELOCITY_PAYMENTS) / 2)
    card = pick_cards(rng, len(cards), count)
    sizes = rng.integers(VELOCITY_PAYMENTS[0], VELOCITY_PAYMENTS[1] + 1, count)
    start = config.start_us + rng.integers(0, config.span_us - HOUR_US, count)
    # Consecutive entries of a random permutation: distinct merchants within an incident.
    shuffled = rng.permutation(len(merchants))
    first = rng.integers(0, len(merchants), count)

    owner, rank = group_offsets(sizes)
    rows = owner.size
    offset = rng.integers(0, HOUR_US, rows)
    offset = offset[np.lexsort((offset, owner))]
    merchant = shuffled[(first[owner] + rank) % len(merchants)]
    channel = channel_for(merchants.mcc[merchant], rng.random(rows))
    currency = currency_for(
        cards.country[card[owner]], merchants.country[merchant], channel, rng.random(rows)
    )
    amount_eur = cards.spend[card[owner]] * lognormal(
        rng.random(rows), rng.random(rows), VELOCITY_MEDIAN_EUR, VELOCITY_SIGMA
    )
    return make_rows(
        card=card[owner],
        merchant=merchant,
        t_us=start[owner] + offset,
        amount=price(amount_eur, currency, channel),
        currency=currency,
        channel=channel,
        pattern=FraudPattern.VELOCITY,
        delay_s=fraud_label_delay_s(rng.random(rows), rng.random(rows)),
    )


def atm_night_abroad(
    config: GeneratorConfig, cards: Cards, merchants: Merchants, legit_after_drift: float
) -> Rows:
    """Drift "new-pattern": high cash withdrawals at a foreign ATM between midnight and 4 a.m. local."""
    rng = stream(config.seed, FraudPattern.ATM_NIGHT_ABROAD.value)
    count = incidents(NEW_PATTERN_RATE * legit_after_drift, sum(ATM_NIGHT_WITHDRAWALS) / 2)
    card = pick_cards(rng, len(cards), count)
    home = cards.country[card]
    atms = merchants.pool(merchants.mcc == ATM_MCC)
    tries = count * ATM_NIGHT_CANDIDATES
    candidates = atms.sample(np.repeat(home, ATM_NIGHT_CANDIDATES), np.ones(tries), rng.random(tries), 0.0)
    candidates = candidates.reshape(count, ATM_NIGHT_CANDIDATES)
    abroad = merchants.country[candidates] != home[:, None]
    merchant = candidates[np.arange(count), np.argmax(abroad, axis=1)]

    day = rng.integers(config.drift_day, config.days, count)
    hour = rng.integers(*ATM_NIGHT_FIRST_HOUR, count)
    offset_h = COUNTRY_UTC_OFFSET_H[merchants.country[merchant]]
    start = config.start_us + local_time_us(day, hour, rng.integers(0, HOUR_US, count), offset_h)
    start = np.where(start < config.drift_start_us, start + 24 * HOUR_US, start)
    sizes = rng.integers(ATM_NIGHT_WITHDRAWALS[0], ATM_NIGHT_WITHDRAWALS[1] + 1, count)

    owner, rank = group_offsets(sizes)
    rows = owner.size
    gap = np.where(rank == 0, 0, rng.integers(*ATM_NIGHT_GAP_US, rows))
    t_us = start[owner] + cumsum_within(gap, sizes)
    channel = np.full(rows, ATM)
    currency = currency_for(home[owner], merchants.country[merchant[owner]], channel, np.zeros(rows))
    amount = price(rng.uniform(*ATM_NIGHT_AMOUNT_EUR, rows), currency, channel)
    delay_s = fraud_label_delay_s(rng.random(rows), rng.random(rows))
    planted = make_rows(
        card=card[owner],
        merchant=merchant[owner],
        t_us=t_us,
        amount=amount,
        currency=currency,
        channel=channel,
        pattern=FraudPattern.ATM_NIGHT_ABROAD,
        delay_s=delay_s,
    )
    keep = abroad.any(axis=1)[owner] & (t_us < config.end_us)
    return planted.select(keep) if not keep.all() else planted
