"""Parameters of one synthetic run, and the named random streams derived from its seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
MAX_PAYMENTS = 999_999_999  # payment ids carry a 9-digit ordinal


class Drift(StrEnum):
    """What changes from `drift_from_day` on (see docs/data.md, "Drift scenarios")."""

    AMOUNTS = "amounts"
    MERCHANT_MIX = "merchant-mix"
    NEW_PATTERN = "new-pattern"


class FraudPattern(StrEnum):
    """Value of the `fraud_pattern` column; NONE marks a legitimate payment."""

    NONE = "none"
    CARD_TESTING = "card_testing"
    NEW_MERCHANT_LARGE = "new_merchant_large"
    VELOCITY = "velocity"
    COMPROMISED_MERCHANT = "compromised_merchant"
    ATM_NIGHT_ABROAD = "atm_night_abroad"  # only with drift="new-pattern"


PATTERNS: tuple[FraudPattern, ...] = tuple(FraudPattern)
PATTERN_CODE: dict[FraudPattern, int] = {pattern: code for code, pattern in enumerate(PATTERNS)}

# How the configured fraud rate is split between the four base patterns (share of fraud rows).
PATTERN_SHARES: dict[FraudPattern, float] = {
    FraudPattern.CARD_TESTING: 0.35,
    FraudPattern.NEW_MERCHANT_LARGE: 0.15,
    FraudPattern.VELOCITY: 0.25,
    FraudPattern.COMPROMISED_MERCHANT: 0.25,
}
NEW_PATTERN_RATE = 0.003  # extra fraud rows per legitimate row after the drift day (drift="new-pattern")

_STREAM_KEYS = {
    "merchants": 1,
    "cards": 2,
    "preferences": 3,
    "legit": 4,
    "drift": 5,
    FraudPattern.CARD_TESTING.value: 11,
    FraudPattern.NEW_MERCHANT_LARGE.value: 12,
    FraudPattern.VELOCITY.value: 13,
    FraudPattern.COMPROMISED_MERCHANT.value: 14,
    FraudPattern.ATM_NIGHT_ABROAD.value: 15,
}


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator per part of the data, so changing one part never shifts another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, _STREAM_KEYS[name]])))


def _to_us(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND_US + delta.microseconds


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """One run of the generator; the same config always gives the same data.

    Args:
        seed: root of every random stream (0 <= seed < 2**63).
        cards, merchants: population sizes.
        days: length of the period, starting at `start` (tz-aware; stored in UTC).
        fraud_rate: target share of fraud rows among all payments (base patterns).
        payments: optional target for the total number of payments; scales every card's
            daily rate so that the expected total matches (the realised total is within ~1%).
        drift, drift_from_day: a drift scenario starting at that day (default: half-way).
    """

    seed: int
    cards: int = 20_000
    merchants: int = 2_000
    days: int = 30
    start: datetime = field(default=DEFAULT_START)
    fraud_rate: float = 0.01
    payments: int | None = None
    drift: Drift | None = None
    drift_from_day: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.seed < 2**63:
            raise ValueError("seed must be in [0, 2**63)")
        if self.cards < 10 or self.merchants < 20:
            raise ValueError("need at least 10 cards and 20 merchants")
        if not 1 <= self.days <= 366:
            raise ValueError("days must be in [1, 366]")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        if not 0.0 <= self.fraud_rate <= 0.2:
            raise ValueError("fraud_rate must be in [0, 0.2]")
        if self.payments is not None and not 1 <= self.payments <= MAX_PAYMENTS // 2:
            raise ValueError(f"payments must be in [1, {MAX_PAYMENTS // 2}]")
        if self.drift_from_day is not None and not 0 <= self.drift_from_day < self.days:
            raise ValueError("drift_from_day must be in [0, days)")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.drift is not None:
            object.__setattr__(self, "drift", Drift(self.drift))

    @property
    def start_us(self) -> int:
        return _to_us(self.start)

    @property
    def span_us(self) -> int:
        return self.days * DAY_US

    @property
    def end_us(self) -> int:
        return self.start_us + self.span_us

    @property
    def drift_day(self) -> int:
        return self.days // 2 if self.drift_from_day is None else self.drift_from_day

    @property
    def drift_start_us(self) -> int:
        """First microsecond the drift applies to; the end of the period when there is no drift."""
        return self.end_us if self.drift is None else self.start_us + self.drift_day * DAY_US

    def parameters(self) -> dict[str, object]:
        """The arguments as JSON-ready values, for the generation summary."""
        return {
            "seed": self.seed,
            "cards": self.cards,
            "merchants": self.merchants,
            "days": self.days,
            "start": self.start.isoformat(),
            "fraud_rate": self.fraud_rate,
            "payments": self.payments,
            "drift": None if self.drift is None else self.drift.value,
            "drift_from_day": None if self.drift is None else self.drift_day,
        }
