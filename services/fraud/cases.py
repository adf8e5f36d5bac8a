"""The fraud case schema, and reading labelled cases (with their feature columns) from Parquet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from services.core.ports import Case, CaseSchema, PropertyKind, PropertyValue

# What the vector index keeps of a past payment besides its id, label and time.
FRAUD_CASE_SCHEMA = CaseSchema({"amount": "number", "merchant_id": "text"})
CASE_COLUMNS = ("case_id", "label", *FRAUD_CASE_SCHEMA.names, "timestamp")
_CONVERT: dict[PropertyKind, Callable[[Any], PropertyValue]] = {
    "text": str,
    "number": float,
    "int": int,
    "bool": bool,
}


def cases_from_frame(
    frame: pd.DataFrame, feature_names: Sequence[str]
) -> tuple[list[Case], npt.NDArray[np.float64]]:
    """Fraud cases (FRAUD_CASE_SCHEMA properties) and their raw feature rows (feature_names order).

    Raises:
        ValueError: a column is missing or timestamps carry no offset.
    """
    missing = [name for name in (*CASE_COLUMNS, *feature_names) if name not in frame.columns]
    if missing:
        raise ValueError(f"cases lack columns: {', '.join(missing)}")
    stamps = _aware_timestamps(frame["timestamp"])
    columns = {
        name: [_CONVERT[kind](value) for value in frame[name]]
        for name, kind in FRAUD_CASE_SCHEMA.properties.items()
    }
    cases = [
        Case(
            id=str(case_id),
            label=int(label),
            timestamp=stamp,
            properties={name: values[row] for name, values in columns.items()},
        )
        for row, (case_id, label, stamp) in enumerate(
            zip(frame["case_id"], frame["label"], stamps, strict=True)
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
