"""metadata.json of a model artifact: what was trained, on which window, how well, with what.

The one schema and the one reader: the model server, the scoring service, the monitor and the
vector indexer all call `read_metadata`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.core.embedding import embed

METADATA_FILE = "metadata.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())


class TimeWindow(_Frozen):
    """A half-open time interval [start, end) of event times."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")
        return self


class TrainingRange(_Frozen):
    """The slice of history an artifact was trained on ([since, until); None = unbounded), and
    how many payments and frauds it held."""

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    payments: int = Field(ge=0)
    frauds: int = Field(ge=0)


class RecallAtFpr(_Frozen):
    fpr: float = Field(ge=0.0, le=1.0)
    recall: float = Field(ge=0.0, le=1.0)


class Metrics(_Frozen):
    """Hold-out metrics of the booster."""

    roc_auc: float = Field(ge=0.0, le=1.0)
    pr_auc: float = Field(ge=0.0, le=1.0)
    recall_at_fpr: RecallAtFpr


class Thresholds(_Frozen):
    """Score cut-offs: the model's label, and the review/decline bands of the decision policy."""

    label: float = Field(ge=0.0, le=1.0)
    review: float = Field(ge=0.0, le=1.0)
    decline: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.decline < self.review:
            raise ValueError(f"decline threshold {self.decline} is below review threshold {self.review}")
        return self


class Scaler(_Frozen):
    """Per-feature standardisation (x - mean) / scale, used to embed feature vectors."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.mean) != len(self.scale):
            raise ValueError(f"scaler has {len(self.mean)} means but {len(self.scale)} scales")
        if any(not value > 0.0 for value in self.scale):
            raise ValueError("scaler scales must be positive")
        return self

    @classmethod
    def fit(cls, features: npt.ArrayLike) -> Scaler:
        """Mean and standard deviation per column, ignoring NaN; constant columns get scale 1."""
        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[0] == 0:
            raise ValueError(f"expected a non-empty [rows, features] matrix, got shape {matrix.shape}")
        with np.errstate(all="ignore"):
            mean = np.nan_to_num(np.nanmean(matrix, axis=0), nan=0.0)
            scale = np.nanstd(matrix, axis=0)
        scale = np.where(np.isfinite(scale) & (scale > 0.0), scale, 1.0)
        return cls(mean=tuple(mean.tolist()), scale=tuple(scale.tolist()))

    def embed(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Rows of raw feature values to embeddings (services.core.embedding.embed)."""
        return embed(features, self.mean, self.scale)


class ArtifactMetadata(_Frozen):
    """The contents of metadata.json."""

    name: str = "fraud"
    version: str = Field(min_length=1)
    created_at: AwareDatetime
    feature_names: tuple[str, ...] = Field(min_length=1)
    feature_service: str = "fraud_v1"
    training_window: TimeWindow
    holdout_window: TimeWindow
    metrics: Metrics
    thresholds: Thresholds
    scaler: Scaler
    seed: int
    params: dict[str, Any] = Field(default_factory=dict, description="LightGBM training parameters")
    reference: dict[str, Any] = Field(
        default_factory=dict, description="free-form reference statistics for monitoring"
    )
    model_sha256: str | None = Field(
        default=None, description="sha256 of model.txt, written by ModelArtifact.save and checked on load"
    )
    training_range: TrainingRange | None = Field(
        default=None, description="the history slice trained on (`rtinfer model train --since/--window`)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        duplicates = sorted({name for name in self.feature_names if self.feature_names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate feature names: {duplicates}")
        if len(self.scaler.mean) != len(self.feature_names):
            raise ValueError(
                f"scaler has {len(self.scaler.mean)} entries but there are "
                f"{len(self.feature_names)} feature names"
            )
        return self


class MetadataError(ValueError):
    """metadata.json is missing, unreadable or invalid; the message says which and where."""


def read_metadata(location: Path | str) -> ArtifactMetadata:
    """The validated metadata of an artifact directory (or of a metadata.json file itself)."""
    path = Path(location)
    if path.is_dir() or path.name != METADATA_FILE:
        path = path / METADATA_FILE
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MetadataError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MetadataError(f"invalid {path}: not JSON ({error})") from None
    try:
        return ArtifactMetadata.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'document'}: {issue['msg']}"
            for issue in error.errors()
        )
        raise MetadataError(f"invalid {path}: {problems}") from None
