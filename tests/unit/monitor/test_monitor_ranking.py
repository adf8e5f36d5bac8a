"""ROC AUC and average precision in numpy equal brute-force computations, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from services.core.monitoring.ranking import average_precision, precision_recall, roc_auc

pytestmark = pytest.mark.unit


def _pairwise_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = sum(float(p > n) + 0.5 * float(p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def _threshold_ap(labels: np.ndarray, scores: np.ndarray) -> float:
    total, previous_recall = 0.0, 0.0
    for threshold in sorted(set(scores.tolist()), reverse=True):
        flagged = scores >= threshold
        hits = int(np.sum(flagged & (labels == 1)))
        recall = hits / int(labels.sum())
        total += (recall - previous_recall) * hits / int(flagged.sum())
        previous_recall = recall
    return total


@pytest.mark.parametrize("seed", range(8))
def test_auc_and_ap_equal_brute_force_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(20, 300))
    labels = (rng.random(size) < rng.uniform(0.1, 0.6)).astype(int)
    scores = np.round(rng.random(size) + 0.3 * labels, 1)  # coarse: many ties, across classes too
    if labels.sum() in (0, size):
        labels[0], labels[1] = 0, 1
    assert roc_auc(labels, scores) == pytest.approx(_pairwise_auc(labels, scores), abs=1e-12)
    assert average_precision(labels, scores) == pytest.approx(_threshold_ap(labels, scores), abs=1e-12)


def test_edge_cases() -> None:
    assert roc_auc([1, 1], [0.2, 0.4]) is None
    assert roc_auc([], []) is None
    assert average_precision([0, 0], [0.1, 0.2]) is None
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert average_precision([0, 1, 1], [0.7, 0.7, 0.7]) == pytest.approx(2 / 3)
    assert precision_recall([1, 0, 1, 0], [1, 1, 0, 0]) == (0.5, 0.5)
    assert precision_recall([0, 0], [0, 0]) == (None, None)
