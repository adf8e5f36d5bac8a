"""Vectorised draws built from uniform numbers, so callers control which stream feeds them."""

from __future__ import annotations

import numpy as np

from rtinfer.datagen.catalog import HOURLY_PROFILE
from rtinfer.datagen.config import DAY_US, SECOND_US

_HOURLY_CUMULATIVE = np.cumsum(HOURLY_PROFILE)

LEGIT_LABEL_MATURITY_S = 30.0 * 86_400  # a legitimate payment's label is final after 30 days
FRAUD_LABEL_MEDIAN_S = 7.0 * 86_400  # chargeback delay: lognormal, median 7 days ...
FRAUD_LABEL_SIGMA = 0.8  # ... log-space sigma 0.8 ...
FRAUD_LABEL_MIN_S = 1.0 * 86_400  # ... clipped to [1, 60] days
FRAUD_LABEL_MAX_S = 60.0 * 86_400


def standard_normal(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Box-Muller: two independent uniforms in [0, 1) to one standard normal."""
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def lognormal(u1: np.ndarray, u2: np.ndarray, median: float | np.ndarray, sigma: float) -> np.ndarray:
    return median * np.exp(sigma * standard_normal(u1, u2))


def pick_weighted(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index i with probability weight[i] / sum(weight), given the cumulative weights."""
    picked = np.searchsorted(cumulative, u * cumulative[-1], side="right")
    return np.minimum(picked, cumulative.size - 1)


def local_hour(u: np.ndarray) -> np.ndarray:
    """An hour of the day 0..23 following the daytime-heavy HOURLY_PROFILE."""
    return pick_weighted(_HOURLY_CUMULATIVE, u)


def fraud_label_delay_s(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Seconds from a fraud payment to its chargeback, whole seconds."""
    delay = lognormal(u1, u2, FRAUD_LABEL_MEDIAN_S, FRAUD_LABEL_SIGMA)
    return np.round(np.clip(delay, FRAUD_LABEL_MIN_S, FRAUD_LABEL_MAX_S))


def group_offsets(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: the group of each element, its rank in it."""
    owner = np.repeat(np.arange(sizes.size), sizes)
    starts = np.cumsum(sizes) - sizes
    return owner, np.arange(owner.size) - starts[owner]


def pick_cards(rng: np.random.Generator, n_cards: int, count: int) -> np.ndarray:
    """`count` cards, all distinct when there are enough of them."""
    if count <= n_cards:
        return np.sort(rng.choice(n_cards, size=count, replace=False)).astype(np.int32)
    return rng.integers(0, n_cards, count).astype(np.int32)


def local_time_us(
    day: np.ndarray, hour: np.ndarray, within_hour_us: np.ndarray, utc_offset_h: np.ndarray
) -> np.ndarray:
    """Microseconds from the period start of a local wall-clock time at that UTC offset."""
    offset_us = np.round(utc_offset_h * 3_600 * SECOND_US).astype(np.int64)
    return (
        day.astype(np.int64) * DAY_US + hour.astype(np.int64) * 3_600 * SECOND_US + within_hour_us - offset_us
    )


def cumsum_within(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Running sums that restart at every group (groups of `sizes` laid end to end)."""
    total = np.cumsum(values)
    starts = np.cumsum(sizes) - sizes
    before = np.concatenate([[0], total])[starts]
    return total - np.repeat(before, sizes)


def incidents(target_rows: float, rows_per_incident: float) -> int:
    """Incidents needed for about `target_rows` rows: at least one unless the target is zero."""
    if target_rows <= 0:
        return 0
    return max(1, round(target_rows / rows_per_incident))


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """True where a sorted key differs from the one before it (the first of each run of equal keys)."""
    starts = np.ones(sorted_keys.size, dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return starts
