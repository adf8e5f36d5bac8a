"""Scoring and exact TreeSHAP explanations of a feature matrix with a loaded artifact.

Pure numpy + LightGBM: the KServe model and the in-process adapter both call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.model.artifact import ModelArtifact

Float64Array = npt.NDArray[np.float64]


class FeatureMatrixError(ValueError):
    """The request's features cannot be scored; the message is safe to return to the caller."""


@dataclass(frozen=True)
class Scores:
    probabilities: Float64Array  # [rows]
    labels: npt.NDArray[np.int32]  # [rows], 1 where probability >= the label threshold


@dataclass(frozen=True)
class Attribution:
    """contributions[i].sum() + base_values[i] == raw_scores[i] (log-odds)."""

    contributions: Float64Array  # [rows, features]
    base_values: Float64Array  # [rows]
    raw_scores: Float64Array  # [rows]
    probabilities: Float64Array  # [rows]


def check_feature_matrix(matrix: npt.ArrayLike, feature_count: int) -> Float64Array:
    """A [rows, feature_count] float64 matrix with rows >= 1, NaN allowed (missing), ±inf not.

    Raises:
        FeatureMatrixError: with a reason fit for a 400 response.
    """
    try:
        values = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise FeatureMatrixError(f"features must be numbers: {error}") from None
    if values.ndim != 2:
        raise FeatureMatrixError(
            f"features must be a [rows, {feature_count}] matrix, got {values.ndim} dimension(s) {list(values.shape)}"
        )
    if values.shape[0] == 0:
        raise FeatureMatrixError("empty batch: at least one row is required")
    if values.shape[1] != feature_count:
        raise FeatureMatrixError(f"expected {feature_count} features per row, got {values.shape[1]}")
    if np.isinf(values).any():
        row = int(np.argwhere(np.isinf(values))[0][0])
        raise FeatureMatrixError(f"row {row} has an infinite value; use NaN for a missing feature")
    return values


class Predictor:
    """Probabilities, labels and attributions from one artifact's booster."""

    def __init__(self, artifact: ModelArtifact, *, num_threads: int = 1) -> None:
        self.artifact = artifact
        self.feature_count = len(artifact.feature_names)
        self.threshold = artifact.metadata.thresholds.label
        # One OpenMP thread by default: micro-batches are small and thread start-up costs more.
        self._threads = num_threads

    def score(self, features: npt.ArrayLike) -> Scores:
        matrix = check_feature_matrix(features, self.feature_count)
        probabilities = np.asarray(
            self.artifact.booster.predict(matrix, num_threads=self._threads), np.float64
        )
        labels = (probabilities >= self.threshold).astype(np.int32)
        return Scores(probabilities=probabilities, labels=labels)

    def explain(self, features: npt.ArrayLike) -> Attribution:
        matrix = check_feature_matrix(features, self.feature_count)
        booster = self.artifact.booster
        contributions = np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=self._threads))
        raw_scores = np.asarray(booster.predict(matrix, raw_score=True, num_threads=self._threads))
        return Attribution(
            contributions=contributions[:, :-1],
            base_values=contributions[:, -1],
            raw_scores=raw_scores,
            probabilities=np.asarray(booster.predict(matrix, num_threads=self._threads), np.float64),
        )
