"""Enrichment: stored features plus request-time features, checked for freshness."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from events import FeatureUse
from services.core.ports import RequestFeatureFn, StoredFeature
from services.core.scoring.policy import FreshnessPolicy, StalePolicy

FUTURE_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class EnrichedRow:
    vector: list[float]  # in the model's feature order; NaN = missing
    uses: dict[str, FeatureUse]
    stale: list[str]
    defaulted: list[str]


def enrich_row(
    payload: Any,
    stored: Mapping[str, StoredFeature],
    feature_names: Sequence[str],
    request_features: RequestFeatureFn,
    freshness: FreshnessPolicy,
    at: datetime,
) -> EnrichedRow:
    """One event's model input and what it saw.

    Args:
        at: the time ages are measured at (the event's time, so replays are judged the
            way live traffic was).
    """
    computed = request_features(payload, stored)
    vector: list[float] = []
    uses: dict[str, FeatureUse] = {}
    stale: list[str] = []
    defaulted: list[str] = []
    for name in feature_names:
        if name in computed:
            value = computed[name]
            vector.append(value)
            uses[name] = FeatureUse(value=_finite(value), event_timestamp=at, age_s=0.0)
            continue
        feature = stored.get(name, StoredFeature(None, None))
        age = (at - feature.event_timestamp).total_seconds() if feature.event_timestamp else None
        limit = freshness.max_age(name)
        # A value written after the event (replay faster than real time, clock skew) did not
        # exist when the event happened: it is as untrustworthy as an old one.
        from_future = age is not None and age < -FUTURE_TOLERANCE_S
        too_old = from_future or (age is not None and limit is not None and age > limit)
        value = feature.value if feature.value is not None else math.nan
        used_default = False
        if too_old:
            stale.append(name)
            if freshness.on_stale is StalePolicy.DEFAULT:
                value = freshness.default(name)
                used_default = True
                defaulted.append(name)
        vector.append(value)
        uses[name] = FeatureUse(
            value=_finite(value),
            event_timestamp=feature.event_timestamp,
            age_s=None if age is None else max(age, 0.0),
            stale=too_old,
            defaulted=used_default,
        )
    return EnrichedRow(vector, uses, stale, defaulted)


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
