"""The one definition of every feature: rolling card aggregates, batch profiles, request-time.

Pure numpy over one entity's sorted history. The offline backfill (training) and the
online feature writer (serving) both call these functions, so the two cannot drift.

Semantics. The rolling row produced at a card's payment j covers the card's payments with
time in (t_j - W, t_j], payment j included. A payment i is scored with the row of the card's
previous payment (j = i - 1): online because the writer has processed j but not yet i;
offline because the point-in-time join asks for the row as of t_i minus one microsecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Window:
    name: str
    kind: str  # "count" | "sum" | "distinct"
    seconds: float


ROLLING_WINDOWS: tuple[Window, ...] = (
    Window("card_count_10m", "count", 10 * MINUTE),
    Window("card_count_1h", "count", HOUR),
    Window("card_count_24h", "count", DAY),
    Window("card_amount_sum_1h", "sum", HOUR),
    Window("card_amount_sum_24h", "sum", DAY),
    Window("card_distinct_merchants_24h", "distinct", DAY),
)
LAST_PAYMENT_TS = "card_last_payment_ts"  # unix seconds of the payment the row belongs to
ROLLING_FEATURES: tuple[str, ...] = (*(w.name for w in ROLLING_WINDOWS), LAST_PAYMENT_TS)
ROLLING_HORIZON_S = max(w.seconds for w in ROLLING_WINDOWS)  # older events affect nothing

CARD_MEAN_WINDOW_S = 7 * DAY
MERCHANT_FRAUD_WINDOW_S = 30 * DAY
CARD_PROFILE_FEATURES = ("card_mean_amount_7d", "card_count_7d")
MERCHANT_PROFILE_FEATURES = ("merchant_fraud_rate_30d", "merchant_count_30d")

REQUEST_FEATURES = ("amount", "hour_of_day", "seconds_since_prev", "amount_to_card_mean", "channel_code")
CHANNEL_CODES = {"pos": 0.0, "ecom": 1.0, "atm": 2.0, "moto": 3.0}

# The model's input vector, in order.
MODEL_FEATURES: tuple[str, ...] = (
    *REQUEST_FEATURES,
    *(w.name for w in ROLLING_WINDOWS),
    *CARD_PROFILE_FEATURES,
    *MERCHANT_PROFILE_FEATURES,
)


def rolling_features(
    times_s: FloatArray, amounts: FloatArray, merchants: Sequence[str]
) -> dict[str, FloatArray]:
    """Rolling aggregates at every payment of one card.

    Args:
        times_s: unix seconds, sorted ascending (ties keep their given order).
        amounts: payment amounts, aligned with times_s.
        merchants: merchant ids, aligned with times_s.

    Returns:
        feature name -> array with the row produced at each payment.
    """
    n = len(times_s)
    out: dict[str, FloatArray] = {}
    positions = np.arange(n)
    amount_cumsum = np.concatenate([[0.0], np.cumsum(amounts, dtype=np.float64)])
    for window in ROLLING_WINDOWS:
        # Window (t_j - W, t_j]: first index with time > t_j - W.
        starts = np.searchsorted(times_s, times_s - window.seconds, side="right")
        if window.kind == "count":
            out[window.name] = (positions + 1 - starts).astype(np.float64)
        elif window.kind == "sum":
            out[window.name] = np.round(amount_cumsum[positions + 1] - amount_cumsum[starts], 6)
        else:
            out[window.name] = _distinct_counts(starts, merchants)
    out[LAST_PAYMENT_TS] = np.asarray(times_s, dtype=np.float64)
    return out


def _distinct_counts(starts: npt.NDArray[np.int64], merchants: Sequence[str]) -> FloatArray:
    # A payment counts as a new distinct merchant in window [s, j] when the merchant's
    # previous occurrence lies before s.
    previous = np.empty(len(merchants), dtype=np.int64)
    last_seen: dict[str, int] = {}
    for index, merchant in enumerate(merchants):
        previous[index] = last_seen.get(merchant, -1)
        last_seen[merchant] = index
    counts = np.empty(len(merchants), dtype=np.float64)
    for index, start in enumerate(starts):
        counts[index] = np.count_nonzero(previous[start : index + 1] < start)
    return counts


def latest_rolling_row(
    times_s: FloatArray, amounts: FloatArray, merchants: Sequence[str]
) -> dict[str, float]:
    """The rolling row as of a card's latest payment (what the online store should hold)."""
    order = np.argsort(times_s, kind="stable")
    rows = rolling_features(times_s[order], amounts[order], [merchants[i] for i in order])
    return {name: float(values[-1]) for name, values in rows.items()}


def card_profile(times_s: FloatArray, amounts: FloatArray, cutoffs_s: FloatArray) -> dict[str, FloatArray]:
    """Card batch profile at each cut-off: payments in (cutoff - 7 d, cutoff]."""
    starts = np.searchsorted(times_s, cutoffs_s - CARD_MEAN_WINDOW_S, side="right")
    ends = np.searchsorted(times_s, cutoffs_s, side="right")
    cumsum = np.concatenate([[0.0], np.cumsum(amounts, dtype=np.float64)])
    counts = (ends - starts).astype(np.float64)
    sums = cumsum[ends] - cumsum[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    return {"card_mean_amount_7d": np.round(means, 6).astype(np.float64), "card_count_7d": counts}


def merchant_profile(
    times_s: FloatArray, is_fraud: FloatArray, label_known_s: FloatArray, cutoffs_s: FloatArray
) -> dict[str, FloatArray]:
    """Merchant fraud rate at each cut-off over payments in (cutoff - 30 d, cutoff].

    Only labels known by the cut-off count as fraud, so the feature never sees the future.
    """
    rates = np.full(len(cutoffs_s), np.nan)
    counts = np.zeros(len(cutoffs_s))
    starts = np.searchsorted(times_s, cutoffs_s - MERCHANT_FRAUD_WINDOW_S, side="right")
    ends = np.searchsorted(times_s, cutoffs_s, side="right")
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        total = end - start
        counts[index] = total
        if total:
            known_fraud = (is_fraud[start:end] > 0) & (label_known_s[start:end] <= cutoffs_s[index])
            rates[index] = round(float(np.count_nonzero(known_fraud)) / total, 6)
    return {"merchant_fraud_rate_30d": rates, "merchant_count_30d": counts}


def request_features(
    amount: float, timestamp: datetime, channel: str, last_payment_ts: float | None, card_mean: float | None
) -> dict[str, float]:
    """Features known only at request time, from the event and the stored features."""
    now_s = timestamp.timestamp()
    since_prev = (
        now_s - last_payment_ts if last_payment_ts is not None and np.isfinite(last_payment_ts) else np.nan
    )
    ratio = (
        amount / card_mean if card_mean is not None and np.isfinite(card_mean) and card_mean > 0 else np.nan
    )
    return {
        "amount": float(amount),
        "hour_of_day": float(timestamp.astimezone(UTC).hour),
        "seconds_since_prev": float(since_prev),
        "amount_to_card_mean": float(ratio),
        "channel_code": CHANNEL_CODES.get(channel, np.nan),
    }


def request_features_frame(
    amounts: FloatArray,
    times_s: FloatArray,
    channels: Sequence[str],
    last_payment_ts: FloatArray,
    card_means: FloatArray,
) -> dict[str, FloatArray]:
    """`request_features` for many rows at once (training); same formulas."""
    hours = ((times_s // 3600) % 24).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(card_means > 0, amounts / card_means, np.nan)
    return {
        "amount": amounts.astype(np.float64),
        "hour_of_day": hours,
        "seconds_since_prev": times_s - last_payment_ts,
        "amount_to_card_mean": ratio,
        "channel_code": np.array([CHANNEL_CODES.get(c, np.nan) for c in channels], dtype=np.float64),
    }
