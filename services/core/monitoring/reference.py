"""Reference statistics taken from training data, and binning values against them.

Bins of one feature: `edges` are the finite, sorted, distinct cut points (training quantiles);
bin 0 is (-inf, edges[0]), bin i is [edges[i-1], edges[i]), the last value bin is
[edges[-1], +inf), and one more bin at the end holds missing values (None or NaN). So
`fractions` has len(edges) + 2 entries. The infinite ends are implicit so the reference stays
plain JSON (a JSON writer turns inf into null or a non-standard token).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from math import isfinite, isnan
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, model_validator

DEFAULT_BINS = 10


def quantile_edges(values: npt.ArrayLike, n_bins: int = DEFAULT_BINS) -> list[float]:
    """Finite, distinct cut points at the 1/n_bins .. (n_bins-1)/n_bins quantiles (NaN ignored)."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    array = np.asarray(values, dtype=np.float64).ravel()
    present = array[~np.isnan(array)]
    if present.size == 0 or n_bins == 1:
        return []
    cuts = np.unique(np.quantile(present, np.arange(1, n_bins) / n_bins))
    return [float(cut) for cut in cuts[np.isfinite(cuts)]]


def bin_counts(edges: Sequence[float], values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """How many values fall in each bin of `edges`, the missing-value bin last."""
    array = np.asarray(values, dtype=np.float64).ravel()
    missing = np.isnan(array)
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), array[~missing], side="right")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(np.int64)
    return np.append(counts, np.int64(missing.sum()))


def bin_index(edges: Sequence[float], value: float | None) -> int:
    """The bin of one value (same rule as `bin_counts`): for streaming updates."""
    if value is None or isnan(value):
        return len(edges) + 1
    return bisect_right(edges, value)


def binned(values: npt.ArrayLike, n_bins: int = DEFAULT_BINS) -> dict[str, list[float]]:
    """`{"edges": [...], "fractions": [...]}` of `values`; fractions sum to 1 (missing included)."""
    edges = quantile_edges(values, n_bins)
    counts = bin_counts(edges, values)
    total = int(counts.sum())
    fractions = counts / total if total else np.zeros(len(counts))
    return {"edges": edges, "fractions": [float(fraction) for fraction in fractions]}


def build_reference(
    features_matrix: npt.ArrayLike,
    feature_names: Sequence[str],
    scores: npt.ArrayLike,
    contributions: npt.ArrayLike | None,
    n_bins: int = DEFAULT_BINS,
    *,
    labels: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """The "reference" entry of a model artifact's metadata.json, from the training data.

    Args:
        features_matrix: [rows, features] as the model saw them; NaN = missing.
        feature_names: the column names, in order.
        scores: the model's score of each row.
        contributions: [rows, features] attributions (e.g. TreeSHAP) in the same column order,
            or None when the model has none (the reference then has no attribution).
        labels: 0/1 labels of the rows; `positive_rate` is their mean, else the mean score.
    """
    matrix = np.asarray(features_matrix, dtype=np.float64)
    names = list(feature_names)
    if matrix.ndim != 2 or matrix.shape[1] != len(names):
        raise ValueError(f"features_matrix shape {matrix.shape} does not match {len(names)} feature names")
    score_array = np.asarray(scores, dtype=np.float64).ravel()
    if score_array.shape[0] != matrix.shape[0]:
        raise ValueError(f"{score_array.shape[0]} scores for {matrix.shape[0]} rows")
    attribution: dict[str, float] = {}
    if contributions is not None:
        contribution_matrix = np.asarray(contributions, dtype=np.float64)
        if contribution_matrix.shape != matrix.shape:
            raise ValueError(f"contributions shape {contribution_matrix.shape} differs from {matrix.shape}")
        means = np.nanmean(np.abs(contribution_matrix), axis=0) if len(matrix) else np.zeros(len(names))
        attribution = {name: float(mean) for name, mean in zip(names, means, strict=True)}
    rate_source = score_array if labels is None else np.asarray(labels, dtype=np.float64).ravel()
    return {
        "features": {name: binned(matrix[:, column], n_bins) for column, name in enumerate(names)},
        "score": binned(score_array, n_bins),
        "attribution": attribution,
        "positive_rate": float(np.nanmean(rate_source)) if rate_source.size else None,
        "rows": int(matrix.shape[0]),
    }


class Bins(BaseModel):
    """One binned reference distribution, as stored in metadata.json."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    edges: tuple[float, ...]
    fractions: tuple[float, ...]

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, raw: Any) -> Any:
        # Tolerate writers that kept explicit infinite ends (or nulls for them), or no missing bin.
        if not isinstance(raw, dict):
            return raw
        edges = [edge for edge in raw.get("edges", ()) if edge is not None and isfinite(float(edge))]
        fractions = list(raw.get("fractions", ()))
        if len(fractions) == len(edges) + 1:
            fractions.append(0.0)
        return {**raw, "edges": edges, "fractions": fractions}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if list(self.edges) != sorted(set(self.edges)):
            raise ValueError("edges must be sorted and distinct")
        if len(self.fractions) != len(self.edges) + 2:
            raise ValueError(f"{len(self.edges)} edges need {len(self.edges) + 2} fractions")
        return self


class Reference(BaseModel):
    """The parsed "reference" of metadata.json; every part may be absent (nothing to compare)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    features: dict[str, Bins] = {}
    score: Bins | None = None
    attribution: dict[str, float] = {}
    positive_rate: float | None = None
