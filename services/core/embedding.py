"""The embedding of a feature vector for similarity search: the one formula.

embedding = (x - mean) / scale as float32, with the training scaler of the model artifact, so
every feature weighs the same in L2 distance. A missing (NaN) value maps to 0, the mean; a
zero scale (constant feature) divides by one. The indexer embeds stored cases and the scoring
service embeds its queries with this same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


def embed(
    features: npt.ArrayLike, mean: Sequence[float] | npt.ArrayLike, scale: Sequence[float] | npt.ArrayLike
) -> npt.NDArray[np.float32]:
    """Rows of raw feature values (in the model's feature order) to float32 embeddings."""
    means = np.asarray(mean, dtype=np.float64)
    scales = np.asarray(scale, dtype=np.float64)
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(means):
        raise ValueError(f"features must be [rows, {len(means)}], got {matrix.shape}")
    scales = np.where(scales == 0.0, 1.0, scales)
    return np.nan_to_num((matrix - means) / scales, nan=0.0).astype(np.float32)


@dataclass(frozen=True)
class Standardizer:
    """Feature names with their per-feature mean and scale: what the indexer embeds with."""

    feature_names: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        width = len(self.feature_names)
        if self.mean.shape != (width,) or self.scale.shape != (width,):
            raise ValueError(
                f"scaler needs {width} means and scales, got {self.mean.shape}/{self.scale.shape}"
            )

    def embed(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Rows of raw feature values (in feature_names order) to embeddings."""
        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.feature_names):
            raise ValueError(f"expected rows of {len(self.feature_names)} features, got {matrix.shape}")
        return embed(matrix, self.mean, self.scale)

    @classmethod
    def fit(cls, feature_names: Sequence[str], features: npt.ArrayLike) -> Standardizer:
        """Mean and population standard deviation of the given rows, NaN ignored (no artifact)."""
        matrix = np.asarray(features, dtype=np.float64)
        mean, scale = np.nanmean(matrix, axis=0), np.nanstd(matrix, axis=0)
        return cls(tuple(feature_names), np.nan_to_num(mean), np.nan_to_num(scale))

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> Standardizer:
        """The scaler stored with a trained model (metadata.json, read by the one reader)."""
        from services.core.model_metadata import read_metadata  # it imports this module

        metadata = read_metadata(model_dir)
        return cls(
            metadata.feature_names,
            np.asarray(metadata.scaler.mean, dtype=np.float64),
            np.asarray(metadata.scaler.scale, dtype=np.float64),
        )
