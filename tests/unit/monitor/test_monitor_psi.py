"""Reference bins from training data and PSI against them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from services.core.monitoring.psi import psi
from services.core.monitoring.reference import Bins, bin_counts, bin_index, build_reference, quantile_edges

pytestmark = pytest.mark.unit


def _psi_of(reference_values: np.ndarray, values: np.ndarray) -> float:
    edges = quantile_edges(reference_values)
    expected = bin_counts(edges, reference_values) / len(reference_values)
    return psi(expected.tolist(), bin_counts(edges, values).tolist())


def test_psi_is_zero_for_identical_distributions() -> None:
    values = np.random.default_rng(1).normal(size=5000)
    assert _psi_of(values, values) == 0.0
    assert _psi_of(values, values[::-1].copy()) == 0.0


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(2)
    reference, window = rng.normal(size=20_000), rng.normal(size=20_000)
    values = [_psi_of(reference, window + shift) for shift in (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)]
    assert values == sorted(values)
    assert values[0] < 0.01 and values[3] > 0.2 and values[-1] > 1.0


def test_missing_values_have_their_own_bin() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=10_000)
    reference[:500] = np.nan  # 5 % missing in training
    edges = quantile_edges(reference)
    counts = bin_counts(edges, reference)
    assert counts[-1] == 500 and counts.sum() == 10_000
    window = rng.normal(size=10_000)
    window[:3000] = np.nan  # 30 % missing now, values unchanged
    assert _psi_of(reference, window) > 0.2
    fewer_missing = rng.normal(size=10_000)
    fewer_missing[:520] = np.nan
    assert _psi_of(reference, fewer_missing) < 0.01


def test_equal_quantiles_are_deduplicated_and_outer_bins_are_open() -> None:
    values = np.array([0.0] * 700 + [1.0] * 200 + [5.0] * 100)
    edges = quantile_edges(values, 10)
    assert edges == sorted(set(edges)) and edges[0] == 0.0
    assert bin_index(edges, -1e9) == 0
    assert bin_index(edges, 1e12) == len(edges)
    assert bin_index(edges, None) == bin_index(edges, float("nan")) == len(edges) + 1
    streamed = np.bincount([bin_index(edges, value) for value in values], minlength=len(edges) + 2)
    assert streamed.tolist() == bin_counts(edges, values).tolist()


def test_build_reference_is_plain_json_with_the_documented_layout() -> None:
    rng = np.random.default_rng(4)
    matrix = np.column_stack([rng.normal(size=1000), rng.poisson(1, 1000).astype(float)])
    matrix[:10, 0] = np.nan
    matrix[0, 1] = np.inf  # an infinite value lands in the top bin, never in the edges
    scores = rng.random(1000)
    contributions = rng.normal(size=(1000, 2))
    reference = build_reference(matrix, ["a", "b"], scores, contributions, n_bins=10, labels=scores > 0.9)
    text = json.dumps(reference, allow_nan=False)
    loaded = json.loads(text)
    assert set(loaded) >= {"features", "score", "attribution", "positive_rate"}
    for bins in [*loaded["features"].values(), loaded["score"]]:
        assert len(bins["fractions"]) == len(bins["edges"]) + 2
        assert sum(bins["fractions"]) == pytest.approx(1.0)
        Bins.model_validate(bins)
    assert loaded["features"]["a"]["fractions"][-1] == pytest.approx(0.01)
    assert loaded["attribution"]["a"] == pytest.approx(float(np.mean(np.abs(contributions[:, 0]))))
    assert loaded["positive_rate"] == pytest.approx(float(np.mean(scores > 0.9)))


def test_bins_accept_explicit_infinite_ends_and_a_missing_nan_bin() -> None:
    written = {"edges": [float("-inf"), 0.0, 1.0, float("inf")], "fractions": [0.2, 0.5, 0.3]}
    bins = Bins.model_validate(written)
    assert bins.edges == (0.0, 1.0)
    assert bins.fractions == (0.2, 0.5, 0.3, 0.0)
    with pytest.raises(ValueError, match="fractions"):
        Bins.model_validate({"edges": [0.0], "fractions": [1.0]})
    with pytest.raises(ValueError, match="sorted"):
        Bins.model_validate({"edges": [1.0, 0.0], "fractions": [0.2, 0.3, 0.5, 0.0]})
