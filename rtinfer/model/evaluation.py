"""Hold-out metrics of a binary scorer (numpy only): ROC AUC, PR AUC, recall at a fixed FPR."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from services.core.model_metadata import Metrics, RecallAtFpr


def _sorted_counts(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int, int]:
    """Cumulative true/false positives at each distinct score, highest score first."""
    truth = np.asarray(labels, dtype=np.float64)
    values = np.asarray(scores, dtype=np.float64)
    if truth.shape != values.shape or truth.ndim != 1:
        raise ValueError(
            f"labels and scores must be 1-D of equal length, got {truth.shape} and {values.shape}"
        )
    positives, negatives = int(truth.sum()), int(truth.size - truth.sum())
    if positives == 0 or negatives == 0:
        raise ValueError("metrics need at least one positive and one negative label")
    order = np.argsort(-values, kind="mergesort")
    truth, values = truth[order], values[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(values)), truth.size - 1]
    true_positives = np.cumsum(truth)[last_of_tie]
    false_positives = (last_of_tie + 1) - true_positives
    return true_positives, false_positives, positives, negatives


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    true_positives, false_positives, positives, negatives = _sorted_counts(labels, scores)
    tpr = np.r_[0.0, true_positives / positives]
    fpr = np.r_[0.0, false_positives / negatives]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def pr_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Average precision: precision at each threshold weighted by the recall it adds."""
    true_positives, false_positives, positives, _ = _sorted_counts(labels, scores)
    precision = true_positives / (true_positives + false_positives)
    recall = np.r_[0.0, true_positives / positives]
    return float(np.sum(np.diff(recall) * precision))


def recall_at_fpr(labels: npt.ArrayLike, scores: npt.ArrayLike, fpr: float) -> float:
    """The highest recall reachable with a false-positive rate at most `fpr`."""
    true_positives, false_positives, positives, negatives = _sorted_counts(labels, scores)
    allowed = false_positives / negatives <= fpr
    return float(true_positives[allowed].max() / positives) if allowed.any() else 0.0


def holdout_metrics(labels: npt.ArrayLike, scores: npt.ArrayLike, *, fpr: float = 0.01) -> Metrics:
    return Metrics(
        roc_auc=roc_auc(labels, scores),
        pr_auc=pr_auc(labels, scores),
        recall_at_fpr=RecallAtFpr(fpr=fpr, recall=recall_at_fpr(labels, scores, fpr)),
    )
