"""The exact oracle: squared L2, nearest first, ties in row order; recall arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from services.adapters.vectors.knn import exact_knn, recall_at_k, squared_distances

pytestmark = pytest.mark.unit


def test_matches_brute_force_loop() -> None:
    rng = np.random.default_rng(3)
    stored = rng.normal(size=(300, 8)).astype(np.float32)
    queries = rng.normal(size=(20, 8)).astype(np.float32)

    indices, distances = exact_knn(stored, queries, 7)

    for row, query in enumerate(queries):
        by_loop = sorted(range(len(stored)), key=lambda i: float(((stored[i] - query) ** 2).sum()))[:7]
        assert indices[row].tolist() == by_loop
        expected = [float(((stored[i].astype(np.float64) - query) ** 2).sum()) for i in by_loop]
        assert distances[row] == pytest.approx(expected, rel=1e-6)


def test_distances_are_squared_and_never_negative() -> None:
    stored = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)

    distances = squared_distances(stored, stored)

    assert distances.tolist() == [[0.0, 25.0], [25.0, 0.0]]
    assert (squared_distances(stored * 1e3 + 0.1, stored * 1e3 + 0.1) >= 0).all()


def test_ties_keep_row_order_and_k_is_capped() -> None:
    stored = np.array([[1.0], [-1.0], [1.0]], dtype=np.float32)

    indices, distances = exact_knn(stored, np.zeros((1, 1), dtype=np.float32), 10)

    assert indices.tolist() == [[0, 1, 2]]
    assert distances.tolist() == [[1.0, 1.0, 1.0]]


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must"):
        exact_knn(np.zeros((2, 2), dtype=np.float32), np.zeros((1, 2), dtype=np.float32), 0)


def test_recall_counts_shared_ids_regardless_of_order() -> None:
    assert recall_at_k([["a", "b"], ["c", "x"]], [["b", "a"], ["c", "d"]]) == 0.75
    assert recall_at_k([], []) == 1.0
