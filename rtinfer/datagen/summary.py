"""The generation summary: counts, fraud rate overall and per pattern, label delays, parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from rtinfer.datagen.config import PATTERN_SHARES, FraudPattern
from rtinfer.datagen.generate import GeneratedData

FORMAT_VERSION = 1


def _days(seconds: np.ndarray, quantile: float) -> float | None:
    return round(float(np.quantile(seconds, quantile)) / 86_400, 4) if seconds.size else None


def summarize(data: GeneratedData) -> dict[str, Any]:
    """JSON-ready facts about a generated data set (deterministic: no wall-clock values)."""
    config = data.config
    payments = data.tables.payments
    total = payments.num_rows
    pattern = payments.column("fraud_pattern").to_numpy(zero_copy_only=False)
    delay = payments.column("label_delay_s").to_numpy()
    names, counts = np.unique(pattern, return_counts=True)
    by_pattern = {pattern.value: 0 for pattern in PATTERN_SHARES}
    by_pattern.update({str(name): int(count) for name, count in zip(names, counts, strict=True)})
    fraud = total - by_pattern.pop(FraudPattern.NONE.value, 0)
    fraud_delay = delay[pattern != FraudPattern.NONE.value]
    merchants = data.tables.merchants
    timestamps = payments.column("timestamp")
    return {
        "generator": "rtinfer.datagen",
        "format_version": FORMAT_VERSION,
        "synthetic": True,
        "seed": config.seed,
        "parameters": config.parameters(),
        "period": {"start": config.start.isoformat(), "days": config.days},
        "counts": {
            "payments": total,
            "legitimate": total - fraud,
            "fraud": fraud,
            "cards": data.tables.cards.num_rows,
            "merchants": merchants.num_rows,
            "compromised_merchants": int(pc.sum(merchants.column("compromised")).as_py() or 0),
        },
        "first_timestamp": None if total == 0 else pc.min(timestamps).as_py().isoformat(),
        "last_timestamp": None if total == 0 else pc.max(timestamps).as_py().isoformat(),
        "fraud_rate": round(fraud / total, 6) if total else 0.0,
        "fraud_count_by_pattern": dict(sorted(by_pattern.items())),
        "fraud_rate_by_pattern": {
            name: round(count / total, 6) if total else 0.0 for name, count in sorted(by_pattern.items())
        },
        "fraud_label_delay_days": {
            "p10": _days(fraud_delay, 0.1),
            "median": _days(fraud_delay, 0.5),
            "p90": _days(fraud_delay, 0.9),
        },
        "legitimate_label_maturity_days": 30,
    }
