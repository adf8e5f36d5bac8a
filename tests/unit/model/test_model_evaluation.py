"""Hold-out metrics against their definitions, computed the slow way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtinfer.model.evaluation import holdout_metrics, pr_auc, recall_at_fpr, roc_auc

pytestmark = pytest.mark.unit

labelled_scores = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 20).map(lambda tenth: tenth / 20)), min_size=2, max_size=60
).filter(lambda pairs: len({label for label, _ in pairs}) == 2)


def _pairwise_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (
        positives[:, None] == negatives[None, :]
    ).sum()
    return float(wins / (len(positives) * len(negatives)))


@settings(max_examples=200, deadline=None)
@given(labelled_scores)
def test_roc_auc_is_the_probability_a_positive_outranks_a_negative(pairs: list[tuple[int, float]]) -> None:
    labels, scores = np.array([label for label, _ in pairs]), np.array([score for _, score in pairs])

    assert roc_auc(labels, scores) == pytest.approx(_pairwise_auc(labels, scores))


@settings(max_examples=200, deadline=None)
@given(labelled_scores, st.sampled_from([0.0, 0.1, 0.5, 1.0]))
def test_recall_at_fpr_is_the_best_recall_within_the_budget(
    pairs: list[tuple[int, float]], budget: float
) -> None:
    labels, scores = np.array([label for label, _ in pairs]), np.array([score for _, score in pairs])
    best = 0.0
    for cut in np.unique(scores):
        flagged = scores >= cut
        if (flagged & (labels == 0)).sum() / (labels == 0).sum() <= budget:
            best = max(best, (flagged & (labels == 1)).sum() / (labels == 1).sum())

    assert recall_at_fpr(labels, scores, budget) == pytest.approx(best)


def test_perfect_and_reversed_rankings() -> None:
    labels = np.array([0, 0, 1, 1])

    assert roc_auc(labels, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(labels, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert pr_auc(labels, [0.1, 0.2, 0.8, 0.9]) == 1.0
    metrics = holdout_metrics(labels, [0.1, 0.2, 0.8, 0.9], fpr=0.0)
    assert (metrics.recall_at_fpr.fpr, metrics.recall_at_fpr.recall) == (0.0, 1.0)


def test_one_class_only_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one positive and one negative"):
        roc_auc([1, 1], [0.2, 0.3])
