"""Reading cases: required columns, tz-aware timestamps (naive ones refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from services.fraud.cases import cases_from_frame

pytestmark = pytest.mark.unit


def _frame(timestamps: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ["a", "b"],
            "label": [0, 1],
            "amount": [1.5, 2.5],
            "merchant_id": ["m", "n"],
            "timestamp": timestamps,
            "f": [1.0, 2.0],
        }
    )


def test_reads_cases_and_feature_rows() -> None:
    cases, features = cases_from_frame(_frame(["2024-01-01T00:00:00Z", "2024-01-01T02:00:00+02:00"]), ["f"])

    assert [case.id for case in cases] == ["a", "b"]
    assert [case.properties for case in cases] == [
        {"amount": 1.5, "merchant_id": "m"},
        {"amount": 2.5, "merchant_id": "n"},
    ]
    assert all(type(case.properties["amount"]) is float for case in cases)
    assert cases[1].timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    assert cases[1].timestamp.utcoffset() == timedelta(hours=2)
    assert features.tolist() == [[1.0], [2.0]]


def test_tz_aware_datetime_values_become_plain_datetimes() -> None:
    column = pd.to_datetime(["2024-01-01T00:00Z", "2024-01-02T00:00Z"])
    for timestamps in (column, list(column)):
        cases, _ = cases_from_frame(_frame(timestamps), ["f"])
        assert type(cases[1].timestamp) is datetime
        assert cases[1].timestamp == datetime(2024, 1, 2, tzinfo=UTC)


def test_refuses_naive_times_and_missing_columns() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cases_from_frame(_frame(list(pd.to_datetime(["2024-01-01", "2024-01-02"]))), ["f"])
    with pytest.raises(ValueError, match="offset"):
        cases_from_frame(_frame(["2024-01-01T00:00:00", "2024-01-01T00:00:00Z"]), ["f"])
    with pytest.raises(ValueError, match="lack columns: g"):
        cases_from_frame(_frame(["2024-01-01T00:00:00Z"] * 2), ["g"])
