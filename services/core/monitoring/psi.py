"""Population stability index of observed bin counts against reference fractions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_EPSILON = 1e-4


def psi(
    expected_fractions: Sequence[float], actual_counts: Sequence[int], epsilon: float = DEFAULT_EPSILON
) -> float:
    """PSI = sum over bins of (a - e) * ln(a / e), with both shares floored at `epsilon`.

    A bin empty on both sides adds nothing; an empty window has PSI 0 (nothing to compare).
    """
    expected = np.asarray(expected_fractions, dtype=np.float64)
    counts = np.asarray(actual_counts, dtype=np.float64)
    if expected.shape != counts.shape:
        raise ValueError(f"{expected.size} reference bins but {counts.size} observed")
    total = counts.sum()
    if total <= 0:
        return 0.0
    actual = np.maximum(counts / total, epsilon)
    expected = np.maximum(expected, epsilon)
    return float(max(0.0, np.sum((actual - expected) * np.log(actual / expected))))
