"""Ranking and threshold metrics in numpy: ROC AUC and average precision, exact with ties."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """P(score of a positive > score of a negative), ties counting 1/2 (Mann-Whitney U with
    mid-ranks); None unless both classes are present."""
    truth = np.asarray(labels, dtype=np.int64).ravel()
    values = np.asarray(scores, dtype=np.float64).ravel()
    positives = int(truth.sum())
    negatives = truth.size - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _mid_ranks(values)
    u_statistic = ranks[truth == 1].sum() - positives * (positives + 1) / 2.0
    return float(u_statistic / (positives * negatives))


def average_precision(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """Area under the precision-recall step curve: sum over distinct score thresholds (highest
    first, tied scores taken together) of (recall gain) x precision; None without positives."""
    truth = np.asarray(labels, dtype=np.int64).ravel()
    values = np.asarray(scores, dtype=np.float64).ravel()
    positives = int(truth.sum())
    if positives == 0:
        return None
    order = np.argsort(-values, kind="stable")
    sorted_scores, sorted_truth = values[order], truth[order]
    # Last index of each run of equal scores: the thresholds of the curve.
    ends = np.flatnonzero(np.diff(sorted_scores, append=np.nan) != 0)
    true_positives = np.cumsum(sorted_truth)[ends]
    flagged = ends + 1
    precision = true_positives / flagged
    recall = true_positives / positives
    gains = np.diff(recall, prepend=0.0)
    return float(np.sum(gains * precision))


def precision_recall(labels: npt.ArrayLike, predicted: npt.ArrayLike) -> tuple[float | None, float | None]:
    """Precision and recall of 0/1 predictions; each None when its denominator is 0."""
    truth = np.asarray(labels, dtype=bool).ravel()
    flags = np.asarray(predicted, dtype=bool).ravel()
    hits = int(np.sum(truth & flags))
    flagged, positives = int(flags.sum()), int(truth.sum())
    return (hits / flagged if flagged else None, hits / positives if positives else None)


def _mid_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.diff(sorted_values, prepend=np.nan) != 0)
    ends = np.append(starts[1:], sorted_values.size)
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks
