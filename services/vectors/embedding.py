"""The embedding of a case: its model feature vector standardized with the training scaler.

The model artifact's metadata.json carries ``feature_names`` and ``scaler: {mean, scale}``;
embedding = (x - mean) / scale as float32, so every feature weighs the same in L2 distance.
Same formula as services.model.artifact.embed, which the scoring service applies to queries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from services.core.ports import FloatMatrix

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class Standardizer:
    """Per-feature mean and scale; a zero scale (constant feature) divides by one."""

    feature_names: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        width = len(self.feature_names)
        if self.mean.shape != (width,) or self.scale.shape != (width,):
            raise ValueError(
                f"scaler needs {width} means and scales, got {self.mean.shape}/{self.scale.shape}"
            )

    def embed(self, features: npt.ArrayLike) -> FloatMatrix:
        """Rows of raw feature values (in feature_names order) to embeddings; NaN maps to 0."""
        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.feature_names):
            raise ValueError(f"expected rows of {len(self.feature_names)} features, got {matrix.shape}")
        scale = np.where(self.scale == 0.0, 1.0, self.scale)
        # A missing value becomes the mean (0), as the scoring service embeds its queries.
        return np.nan_to_num((matrix - self.mean) / scale, nan=0.0).astype(np.float32)

    @classmethod
    def fit(cls, feature_names: Sequence[str], features: npt.ArrayLike) -> Standardizer:
        """Mean and population standard deviation of the given rows, NaN ignored (no artifact)."""
        matrix = np.asarray(features, dtype=np.float64)
        mean, scale = np.nanmean(matrix, axis=0), np.nanstd(matrix, axis=0)
        return cls(tuple(feature_names), np.nan_to_num(mean), np.nan_to_num(scale))

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> Standardizer:
        """The scaler stored with a trained model (``metadata.json``)."""
        metadata = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
        try:
            names = tuple(str(name) for name in metadata["feature_names"])
            scaler = metadata["scaler"]
            mean, scale = scaler["mean"], scaler["scale"]
        except (KeyError, TypeError) as error:
            raise ValueError(f"{METADATA_FILE} lacks feature_names or scaler.mean/scale") from error
        return cls(names, np.asarray(mean, dtype=np.float64), np.asarray(scale, dtype=np.float64))
