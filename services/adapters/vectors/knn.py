"""Exact k-nearest-neighbour search in numpy: the oracle the indexes are checked against."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from services.core.ports import FloatMatrix


def squared_distances(stored: FloatMatrix, queries: FloatMatrix) -> npt.NDArray[np.float64]:
    """Squared L2 distance of every query row to every stored row, shape (queries, stored)."""
    stored64 = np.asarray(stored, dtype=np.float64)
    queries64 = np.asarray(queries, dtype=np.float64)
    cross = queries64 @ stored64.T
    squared = (queries64**2).sum(axis=1)[:, None] - 2.0 * cross + (stored64**2).sum(axis=1)[None, :]
    return np.maximum(squared, 0.0)  # rounding can push an exact match a hair below zero


def exact_knn(
    stored: FloatMatrix, queries: FloatMatrix, k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The k stored rows nearest each query by squared L2, nearest first.

    Returns:
        (indices, distances), both of shape (queries, min(k, stored)); ties keep row order.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    distances = squared_distances(stored, queries)
    k = min(k, distances.shape[1])
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return order.astype(np.int64), np.take_along_axis(distances, order, axis=1)


def recall_at_k(found: Sequence[Sequence[str]], expected: Sequence[Sequence[str]]) -> float:
    """Share of the exact neighbours an index returned, over all queries."""
    hits = sum(len(set(got) & set(truth)) for got, truth in zip(found, expected, strict=True))
    total = sum(len(truth) for truth in expected)
    return hits / total if total else 1.0
