"""Enrichment: stored features plus request-time features, checked for freshness."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


def enrich_rows(
    payloads: Sequence[Any],
    stored: Sequence[Mapping[str, StoredFeature]],
    feature_names: Sequence[str],
    request_features: RequestFeatureFn,
    freshness: FreshnessPolicy,
    at: Sequence[datetime],
) -> list[EnrichedRow]:
    """`enrich_row` for a whole micro-batch, with the same results: values, ages and freshness
    as arrays (limits and defaults resolved once per feature, not per event and feature); only
    the per-event FeatureUse records of the outputs are built per event, without re-validation
    (every value in them is finite or None by construction). Times are whole microseconds since
    the epoch held exactly in float64, so ages equal `timedelta.total_seconds()`."""
    count, width = len(payloads), len(feature_names)
    values = np.full((count, width), np.nan)
    stamps_us = np.full((count, width), np.nan)
    stamps: list[list[datetime | None]] = [[None] * width for _ in range(count)]
    computed = np.zeros((count, width), dtype=bool)
    index = {name: column for column, name in enumerate(feature_names)}
    for row, (payload, features) in enumerate(zip(payloads, stored, strict=True)):
        for name, feature in features.items():
            column = index.get(name)
            if column is None:
                continue
            if feature.event_timestamp is not None:
                stamps[row][column] = feature.event_timestamp
                stamps_us[row, column] = _epoch_us(feature.event_timestamp)
            if feature.value is not None:
                values[row, column] = feature.value
        for name, value in request_features(payload, features).items():
            column = index.get(name)
            if column is not None:
                values[row, column] = value
                computed[row, column] = True
    at_us = np.array([_epoch_us(moment) for moment in at], dtype=np.float64)
    ages = np.where(computed, 0.0, (at_us[:, None] - stamps_us) / 1e6)
    limits = np.array([_or_nan(freshness.max_age(name)) for name in feature_names])
    with np.errstate(invalid="ignore"):
        too_old = ((ages < -FUTURE_TOLERANCE_S) | (ages > limits)) & ~computed
    defaulted = np.zeros_like(too_old)
    if freshness.on_stale is StalePolicy.DEFAULT:
        values = np.where(too_old, np.array([freshness.default(name) for name in feature_names]), values)
        defaulted = too_old
    ages = np.maximum(ages, 0.0)  # NaN (no timestamp) stays NaN
    rows = []
    for row in range(count):
        vector = values[row].tolist()
        age_row = ages[row].tolist()
        old_row, default_row, computed_row = (
            too_old[row].tolist(),
            defaulted[row].tolist(),
            computed[row].tolist(),
        )
        uses = {
            name: FeatureUse.model_construct(
                value=vector[column] if math.isfinite(vector[column]) else None,
                event_timestamp=at[row] if computed_row[column] else stamps[row][column],
                age_s=None if math.isnan(age_row[column]) else age_row[column],
                stale=old_row[column],
                defaulted=default_row[column],
            )
            for column, name in enumerate(feature_names)
        }
        stale = [name for column, name in enumerate(feature_names) if old_row[column]]
        used_default = [name for column, name in enumerate(feature_names) if default_row[column]]
        rows.append(EnrichedRow(vector, uses, stale, used_default))
    return rows


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _epoch_us(moment: datetime) -> float:
    return float((moment - _EPOCH) // _MICROSECOND)


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
