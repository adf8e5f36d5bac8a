"""Synthetic labelled cases with cluster structure, for benchmarks and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from services.core.ports import Case, FloatMatrix
from services.fraud.cases import FRAUD_CASE_SCHEMA

CLUSTERS = 20
FRAUD_CLUSTERS = 3  # clusters whose cases are labelled 1
START = datetime(2024, 1, 1, tzinfo=UTC)
CASE_SCHEMA = FRAUD_CASE_SCHEMA  # synthetic cases carry a payment's amount and merchant


def synthetic_cases(count: int, dimensions: int, seed: int) -> tuple[list[Case], FloatMatrix, FloatMatrix]:
    """Cases (CASE_SCHEMA properties), their vectors, and the cluster centres (to draw queries
    from the same mix).

    Vectors are a cluster centre (spread 3) plus unit Gaussian noise, so neighbours are meaningful.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(CLUSTERS, dimensions)).astype(np.float32)
    membership = rng.integers(0, CLUSTERS, size=count)
    vectors = (centres[membership] + rng.normal(size=(count, dimensions))).astype(np.float32)
    amounts = rng.lognormal(mean=3.0, sigma=1.0, size=count)
    cases = [
        Case(
            id=f"case-{row:07d}",
            label=int(cluster < FRAUD_CLUSTERS),
            timestamp=START + timedelta(seconds=30 * row),
            properties={
                "amount": round(float(amount), 2),
                "merchant_id": f"merchant-{cluster:02d}-{row % 7}",
            },
        )
        for row, (cluster, amount) in enumerate(zip(membership, amounts, strict=True))
    ]
    return cases, vectors, centres


def synthetic_queries(centres: FloatMatrix, count: int, seed: int) -> FloatMatrix:
    """Fresh points from the same clusters (not copies of stored vectors)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(centres), size=count)
    return (centres[picks] + rng.normal(size=(count, centres.shape[1]))).astype(np.float32)
