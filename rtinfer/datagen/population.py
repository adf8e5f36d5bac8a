"""The synthetic world: merchants (with compromise windows) and cards (with preferred merchants)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtinfer.datagen.catalog import (
    CARD_TYPE_WEIGHT,
    COUNTRY_CARD_WEIGHT,
    COUNTRY_MERCHANT_WEIGHT,
    MCC_CODES,
    MCC_MERCHANT_WEIGHT,
    MCC_RISK,
    SKIMMING_MCCS,
)
from rtinfer.datagen.config import DAY_US, SECOND_US, GeneratorConfig, stream
from rtinfer.datagen.pools import MerchantPool
from rtinfer.datagen.sampling import pick_weighted

POPULARITY_EXPONENT = 1.0  # Zipf: the merchant of popularity rank r gets weight 1 / r
COMPROMISED_SHARE = 0.01  # share of merchants compromised at some point (at least one)
COMPROMISE_DAYS = (5, 14)  # window length, uniform
PREFERRED_BASE, PREFERRED_EXTRA_MEAN = 4, 8  # preferred merchants per card: 4 + Poisson(8)
PREFERRED_DOMESTIC_SHARE = 0.9
DAILY_RATE_MEDIAN, DAILY_RATE_SIGMA, DAILY_RATE_RANGE = 1.45, 0.55, (0.5, 4.0)
SPEND_SIGMA, SPEND_RANGE = 0.45, (0.2, 8.0)


@dataclass(frozen=True, slots=True)
class Merchants:
    country: np.ndarray  # int16 country index
    mcc: np.ndarray  # int16 MCC index
    popularity: np.ndarray  # float64 sampling weight (Zipf by a random rank)
    risk_score: np.ndarray  # float64 in [0, 1]
    compromised: np.ndarray  # bool
    compromise_start_us: np.ndarray  # int64; meaningless where not compromised
    compromise_end_us: np.ndarray  # int64, exclusive

    def __len__(self) -> int:
        return int(self.country.size)

    def pool(self, include: np.ndarray | None = None) -> MerchantPool:
        return MerchantPool(self.country, self.popularity, include)


@dataclass(frozen=True, slots=True)
class Cards:
    country: np.ndarray  # int16 home country index
    card_type: np.ndarray  # int8 index into CARD_TYPES
    spend: np.ndarray  # float64 multiplier on every category's median amount
    daily_rate: np.ndarray  # float64 mean legitimate payments per day (Poisson)
    preferred_offsets: np.ndarray  # int64, card i prefers preferred[offsets[i]:offsets[i + 1]]
    preferred: np.ndarray  # int32 merchant indices, most favoured first

    def __len__(self) -> int:
        return int(self.country.size)

    @property
    def preferred_count(self) -> np.ndarray:
        return np.diff(self.preferred_offsets)


def build_merchants(config: GeneratorConfig) -> Merchants:
    rng = stream(config.seed, "merchants")
    count = config.merchants
    # The first merchants cover every category once, so every pattern finds a merchant to use.
    mcc = np.concatenate(
        [
            np.arange(len(MCC_CODES)),
            pick_weighted(np.cumsum(MCC_MERCHANT_WEIGHT), rng.random(count - len(MCC_CODES))),
        ]
    ).astype(np.int16)
    country = pick_weighted(np.cumsum(COUNTRY_MERCHANT_WEIGHT), rng.random(count)).astype(np.int16)
    popularity = 1.0 / (rng.permutation(count) + 1.0) ** POPULARITY_EXPONENT
    risk_score = np.round(np.clip(rng.beta(2.0, 8.0, count) + MCC_RISK[mcc], 0.0, 1.0), 3)

    skimming = np.flatnonzero(np.isin(mcc, SKIMMING_MCCS))
    n_compromised = min(skimming.size, max(1, round(count * COMPROMISED_SHARE)))
    weight = popularity[skimming]  # skimmers go where the traffic is
    chosen = rng.choice(skimming, size=n_compromised, replace=False, p=weight / weight.sum())
    compromised = np.zeros(count, dtype=bool)
    compromised[chosen] = True
    first_day = rng.integers(0, max(1, config.days - COMPROMISE_DAYS[0]), count)
    length_days = rng.integers(COMPROMISE_DAYS[0], COMPROMISE_DAYS[1] + 1, count)
    start_us = config.start_us + first_day * DAY_US + rng.integers(0, 86_400, count) * SECOND_US
    end_us = np.minimum(start_us + length_days * DAY_US, config.end_us)
    return Merchants(
        country=country,
        mcc=mcc,
        popularity=popularity,
        risk_score=risk_score,
        compromised=compromised,
        compromise_start_us=np.where(compromised, start_us, 0).astype(np.int64),
        compromise_end_us=np.where(compromised, end_us, 0).astype(np.int64),
    )


def build_cards(config: GeneratorConfig, merchants: Merchants) -> Cards:
    rng = stream(config.seed, "cards")
    count = config.cards
    country = pick_weighted(np.cumsum(COUNTRY_CARD_WEIGHT), rng.random(count)).astype(np.int16)
    card_type = pick_weighted(np.cumsum(CARD_TYPE_WEIGHT), rng.random(count)).astype(np.int8)
    spend = np.clip(rng.lognormal(0.0, SPEND_SIGMA, count), *SPEND_RANGE)
    daily_rate = np.clip(rng.lognormal(np.log(DAILY_RATE_MEDIAN), DAILY_RATE_SIGMA, count), *DAILY_RATE_RANGE)
    if config.payments is not None:
        legit_target = config.payments * (1.0 - config.fraud_rate)
        daily_rate = daily_rate * legit_target / (daily_rate.sum() * config.days)

    picks = stream(config.seed, "preferences")
    sizes = PREFERRED_BASE + picks.poisson(PREFERRED_EXTRA_MEAN, count)
    owner = np.repeat(np.arange(count), sizes)
    preferred = merchants.pool().sample(
        country[owner], picks.random(owner.size), picks.random(owner.size), PREFERRED_DOMESTIC_SHARE
    )
    return Cards(
        country=country,
        card_type=card_type,
        spend=np.round(spend, 4),
        daily_rate=np.round(daily_rate, 4),
        preferred_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        preferred=preferred,
    )


def expected_legit_payments(config: GeneratorConfig, cards: Cards) -> float:
    """Expected number of legitimate payments: sum of daily rates times days."""
    return float(cards.daily_rate.sum() * config.days)
