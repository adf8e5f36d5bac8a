"""Reading labelled cases (and their feature columns) from a Parquet file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from services.core.ports import Case

CASE_COLUMNS = ("case_id", "label", "amount", "merchant_id", "timestamp")


def cases_from_frame(
    frame: pd.DataFrame, feature_names: Sequence[str]
) -> tuple[list[Case], npt.NDArray[np.float64]]:
    """Cases and their raw feature rows (columns in feature_names order).

    Raises:
        ValueError: a column is missing or timestamps carry no offset.
    """
    missing = [name for name in (*CASE_COLUMNS, *feature_names) if name not in frame.columns]
    if missing:
        raise ValueError(f"cases lack columns: {', '.join(missing)}")
    stamps = _aware_timestamps(frame["timestamp"])
    cases = [
        Case(
            id=str(case_id),
            label=int(label),
            amount=float(amount),
            merchant_id=str(merchant),
            timestamp=stamp,
        )
        for case_id, label, amount, merchant, stamp in zip(
            frame["case_id"],
            frame["label"],
            frame["amount"],
            frame["merchant_id"],
            stamps,
            strict=True,
        )
    ]
    features = frame[list(feature_names)].to_numpy(dtype=np.float64)
    return cases, features


def _aware_timestamps(column: pd.Series) -> list[datetime]:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return [stamp.to_pydatetime() for stamp in column]
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        raise ValueError("the timestamp column must be timezone-aware")
    stamps = [_instant(value) for value in column]
    if any(stamp.utcoffset() is None for stamp in stamps):
        raise ValueError("every timestamp must carry an offset")
    return stamps


def _instant(value: object) -> datetime:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def read_cases(path: Path, feature_names: Sequence[str]) -> tuple[list[Case], npt.NDArray[np.float64]]:
    """Cases and raw feature rows from a Parquet file (see cases_from_frame)."""
    return cases_from_frame(pd.read_parquet(path), feature_names)
