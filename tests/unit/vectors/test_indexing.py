"""index_cases over the in-memory index: collection ensured, batches, idempotent, exact search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rtinfer.vectors.indexing import index_cases
from services.adapters.vectors.memory import InMemoryIndex
from services.core.ports import Case
from services.fraud.cases import FRAUD_CASE_SCHEMA

pytestmark = pytest.mark.unit

START = datetime(2024, 1, 1, tzinfo=UTC)


def _cases(count: int) -> list[Case]:
    return [
        Case(
            f"case-{i}", i % 2, START + timedelta(hours=i), {"amount": 10.0 * i, "merchant_id": f"m-{i % 3}"}
        )
        for i in range(count)
    ]


async def test_imports_in_batches_and_ensures_the_collection() -> None:
    index = InMemoryIndex(FRAUD_CASE_SCHEMA)
    vectors = np.arange(50 * 4, dtype=np.float32).reshape(50, 4)

    written = await index_cases(index, _cases(50), vectors, batch_size=16, progress=False)

    assert written == 50
    assert index.dimensions == 4
    assert index.upsert_calls == 4  # 16 + 16 + 16 + 2


async def test_second_import_replaces_rather_than_duplicates() -> None:
    index = InMemoryIndex(FRAUD_CASE_SCHEMA)
    vectors = np.eye(5, dtype=np.float32)

    await index_cases(index, _cases(5), vectors, progress=False)
    await index_cases(index, _cases(5), vectors, progress=False)

    assert len(index.cases) == 5


async def test_search_returns_nearest_with_case_fields() -> None:
    index = InMemoryIndex(FRAUD_CASE_SCHEMA)
    await index_cases(index, _cases(5), np.eye(5, dtype=np.float32), progress=False)

    [neighbours] = await index.search(np.array([[0, 0, 0.9, 0, 0]], dtype=np.float32), k=2)

    assert [n.id for n in neighbours] == ["case-2", "case-0"]
    assert neighbours[0].distance == pytest.approx(0.01, abs=1e-6)
    assert neighbours[0].label == 0
    assert neighbours[0].properties == {
        "amount": 20.0,
        "merchant_id": "m-2",
        "timestamp": START + timedelta(hours=2),
    }


async def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="3 cases but 2 vectors"):
        await index_cases(
            InMemoryIndex(FRAUD_CASE_SCHEMA), _cases(3), np.zeros((2, 4), dtype=np.float32), progress=False
        )
    with pytest.raises(ValueError, match="batch_size"):
        await index_cases(
            InMemoryIndex(FRAUD_CASE_SCHEMA), _cases(1), np.zeros((1, 4), dtype=np.float32), 0, progress=False
        )
