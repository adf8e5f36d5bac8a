"""Offline backfill: the feature definitions applied to the payment history.

Writes the Feast batch sources (parquet with event_timestamp and created columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from services.fraud.feast_repo import BATCH_FILES
from services.fraud.features import (
    ROLLING_FEATURES,
    card_profile,
    merchant_profile,
    rolling_features,
)


@dataclass(frozen=True)
class BackfillResult:
    card_rolling: pd.DataFrame
    card_profile: pd.DataFrame
    merchant_profile: pd.DataFrame

    def write(self, data_dir: Path) -> dict[str, Path]:
        data_dir.mkdir(parents=True, exist_ok=True)
        written = {}
        for name in BATCH_FILES:
            path = data_dir / BATCH_FILES[name]
            getattr(self, name).to_parquet(path, index=False)
            written[name] = path
        return written


def to_unix_seconds(stamps: pd.Series) -> np.ndarray:
    """Unix seconds (float) of a tz-aware timestamp column, whatever its resolution."""
    return stamps.dt.tz_convert("UTC").dt.as_unit("us").astype("int64").to_numpy() / 1e6


def backfill_rolling(payments: pd.DataFrame) -> pd.DataFrame:
    """The rolling row at every payment of every card."""
    ordered = payments.sort_values(["card_id", "timestamp", "payment_id"], kind="stable")
    times = to_unix_seconds(ordered["timestamp"])
    amounts = ordered["amount"].to_numpy(dtype=np.float64)
    merchants = ordered["merchant_id"].to_numpy()
    cards = ordered["card_id"].to_numpy()
    boundaries = np.flatnonzero(cards[1:] != cards[:-1]) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(cards)]])
    columns = {name: np.empty(len(cards)) for name in ROLLING_FEATURES}
    for start, end in zip(starts, ends, strict=True):
        rows = rolling_features(times[start:end], amounts[start:end], list(merchants[start:end]))
        for name, values in rows.items():
            columns[name][start:end] = values
    frame = pd.DataFrame({"card_id": cards, "payment_id": ordered["payment_id"].to_numpy(), **columns})
    frame["event_timestamp"] = ordered["timestamp"].dt.as_unit("us").to_numpy()
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    frame["created"] = frame["event_timestamp"]
    return frame


def snapshot_cutoffs(payments: pd.DataFrame) -> np.ndarray:
    """Daily cut-offs at 00:00 UTC, from the day after the first payment to the day after the last."""
    first = payments["timestamp"].min().tz_convert("UTC").normalize() + pd.Timedelta(days=1)
    last = payments["timestamp"].max().tz_convert("UTC").normalize() + pd.Timedelta(days=1)
    days = pd.date_range(first, last, freq="D", tz="UTC")
    return days.as_unit("us").asi8 / 1e6


def backfill_profiles(payments: pd.DataFrame, cutoffs_s: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    cards = _per_entity(payments, "card_id", cutoffs_s, _card_rows)
    merchants = _per_entity(payments, "merchant_id", cutoffs_s, _merchant_rows)
    return cards, merchants


def _card_rows(group: pd.DataFrame, cutoffs_s: np.ndarray) -> dict[str, np.ndarray]:
    return card_profile(to_unix_seconds(group["timestamp"]), group["amount"].to_numpy(np.float64), cutoffs_s)


def _merchant_rows(group: pd.DataFrame, cutoffs_s: np.ndarray) -> dict[str, np.ndarray]:
    return merchant_profile(
        to_unix_seconds(group["timestamp"]),
        group["is_fraud"].to_numpy(np.float64),
        to_unix_seconds(group["label_available_at"]),
        cutoffs_s,
    )


def _per_entity(payments: pd.DataFrame, key: str, cutoffs_s: np.ndarray, compute) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frames = []
    ordered = payments.sort_values([key, "timestamp", "payment_id"], kind="stable")
    for entity_id, group in ordered.groupby(key, sort=True):
        # A snapshot only exists once the entity has been seen.
        first_seen = to_unix_seconds(group["timestamp"])[0]
        cut = cutoffs_s[cutoffs_s >= first_seen]
        if not len(cut):
            continue
        columns = compute(group, cut)
        frame = pd.DataFrame({key: entity_id, **columns})
        frame["event_timestamp"] = pd.to_datetime(cut * 1e6, unit="us", utc=True)
        frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    result["created"] = result["event_timestamp"]
    return result


def backfill(payments: pd.DataFrame) -> BackfillResult:
    cutoffs = snapshot_cutoffs(payments)
    card_profiles, merchant_profiles = backfill_profiles(payments, cutoffs)
    return BackfillResult(backfill_rolling(payments), card_profiles, merchant_profiles)
