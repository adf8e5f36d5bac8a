"""Checks shared by the adapters, bounded concurrency, and error classification."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import numpy as np
import pytest

from services.adapters.vectors import milvus_index, weaviate_index
from services.adapters.vectors.common import as_utc, check_upsert, gather_bounded
from services.core.errors import BadRequestError, DependencyUnavailable
from services.core.ports import Case

pytestmark = pytest.mark.unit

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_upsert_needs_one_vector_per_case_and_aware_times() -> None:
    case = Case("c1", 0, MOMENT, {"amount": 1.0, "merchant_id": "m1"})
    assert check_upsert([case], np.zeros((1, 4), dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="1 cases but 2 vectors"):
        check_upsert([case], np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="timezone-aware"):
        check_upsert([Case("c2", 0, datetime(2024, 5, 1))], np.zeros((1, 4), dtype=np.float32))  # noqa: DTZ001
    with pytest.raises(ValueError, match="finite"):
        check_upsert([case], np.array([[np.nan, 0, 0, 0]], dtype=np.float32))


def test_stored_times_come_back_in_utc() -> None:
    plus_two = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert as_utc(plus_two) == MOMENT
    assert as_utc("2024-05-01T12:00:00Z").tzinfo is UTC
    with pytest.raises(ValueError, match="no offset"):
        as_utc("2024-05-01T12:00:00")


async def test_gather_bounded_keeps_order_and_limit() -> None:
    in_flight, peak = 0, 0

    async def call(value: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001 * (10 - value))
        in_flight -= 1
        return value

    answers = await gather_bounded([partial(call, v) for v in range(10)], limit=3)

    assert answers == list(range(10))
    assert peak == 3


def test_case_uuid_is_deterministic() -> None:
    assert weaviate_index.case_uuid("card-1/42") == weaviate_index.case_uuid("card-1/42")
    assert weaviate_index.case_uuid("card-1/42") != weaviate_index.case_uuid("card-1/43")


def test_errors_are_typed_and_name_the_backend() -> None:
    from pymilvus.exceptions import MilvusException, ParamError
    from weaviate.exceptions import WeaviateConnectionError

    unreachable = weaviate_index.as_dependency_error(WeaviateConnectionError("refused"))
    assert isinstance(unreachable, DependencyUnavailable)
    assert (unreachable.dependency, unreachable.retryable) == ("weaviate", True)
    assert isinstance(weaviate_index.as_dependency_error(TimeoutError()), DependencyUnavailable)

    down = milvus_index.as_dependency_error(MilvusException(message="Open local milvus failed"))
    assert isinstance(down, DependencyUnavailable)
    assert down.dependency == "milvus"
    malformed = milvus_index.as_dependency_error(ParamError(message="dim mismatch"))
    assert isinstance(malformed, BadRequestError)
    assert not malformed.retryable
