"""Generated payments for integration tests (the project's own generator, small sizes)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd


@functools.cache
def _base(seed: int) -> pd.DataFrame:
    # Placeholder until services.datagen is wired in: simple legit traffic.
    rng = np.random.default_rng(seed)
    n = 12_000
    start = pd.Timestamp("2026-01-01", tz="UTC")
    stamps = start + pd.to_timedelta(np.sort(rng.uniform(0, 10 * 86400, n)), unit="s")
    frame = pd.DataFrame({
        "payment_id": [f"pay-{seed}-{i:09d}" for i in range(n)],
        "card_id": [f"card-{i}" for i in rng.integers(0, 400, n)],
        "merchant_id": [f"m-{i}" for i in rng.integers(0, 80, n)],
        "amount": np.round(rng.lognormal(3, 1, n), 2) + 0.01,
        "currency": "EUR",
        "timestamp": stamps.as_unit("us"),
        "country": "DE",
        "merchant_category": "5411",
        "channel": rng.choice(["pos", "ecom"], n),
        "card_type": "debit",
        "is_fraud": (rng.uniform(size=n) < 0.02).astype("int8"),
    })
    frame["label_available_at"] = frame["timestamp"] + pd.Timedelta(days=3)
    return frame


def generated_payments(count: int, seed: int = 7) -> pd.DataFrame:
    """The first `count` payments (by time) of a generated data set."""
    return _base(seed).iloc[:count].reset_index(drop=True)
