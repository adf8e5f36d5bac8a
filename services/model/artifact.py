"""The versioned model artifact: a directory with model.txt (LightGBM) and metadata.json.

Loading validates everything up front so a server never starts with a model it cannot serve;
every failure is an ArtifactError with a one-line message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import numpy.typing as npt

from services.core.model_metadata import METADATA_FILE, ArtifactMetadata, MetadataError, read_metadata

MODEL_FILE = "model.txt"
_BINARY_OBJECTIVES = ("binary", "cross_entropy", "xentropy")

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_iterations": 200,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "num_threads": 1,
    "verbosity": -1,
}


class ArtifactError(Exception):
    """The artifact is missing, corrupt or inconsistent; the message says which and where."""


@dataclass(frozen=True)
class ModelArtifact:
    """A loaded, validated booster with its metadata."""

    booster: lightgbm.Booster
    metadata: ArtifactMetadata

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.metadata.feature_names

    @classmethod
    def load(cls, path: Path | str) -> ModelArtifact:
        """Read and validate an artifact directory; raises ArtifactError."""
        directory = Path(path)
        if not directory.is_dir():
            raise ArtifactError(f"model artifact directory not found: {directory}")
        model_path, metadata_path = directory / MODEL_FILE, directory / METADATA_FILE
        for required, what in ((model_path, "LightGBM booster text"), (metadata_path, "metadata")):
            if not required.is_file():
                raise ArtifactError(f"model artifact {directory} has no {required.name} ({what})")
        try:
            metadata = read_metadata(metadata_path)
        except MetadataError as error:
            raise ArtifactError(str(error)) from None
        model_bytes = model_path.read_bytes()
        if metadata.model_sha256 is not None:
            digest = hashlib.sha256(model_bytes).hexdigest()
            if digest != metadata.model_sha256:
                raise ArtifactError(
                    f"{model_path} does not match the sha256 recorded in {METADATA_FILE} "
                    f"({digest[:12]}… != {metadata.model_sha256[:12]}…): the artifact is corrupt or was modified"
                )
        booster = _parse_booster(model_bytes, model_path)
        return build_artifact(booster, metadata, where=str(directory))

    def save(self, path: Path | str) -> Path:
        """Write model.txt then metadata.json (with the model's sha256) into `path`."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        model_text = self.booster.model_to_string().encode()
        (directory / MODEL_FILE).write_bytes(model_text)
        metadata = self.metadata.model_copy(update={"model_sha256": hashlib.sha256(model_text).hexdigest()})
        # Without a recorded training range the file keeps the shape readers before it accept.
        absent = {"training_range"} if metadata.training_range is None else set()
        (directory / METADATA_FILE).write_text(metadata.model_dump_json(indent=2, exclude=absent) + "\n")
        return directory


def build_artifact(
    booster: lightgbm.Booster, metadata: ArtifactMetadata, *, where: str = "artifact"
) -> ModelArtifact:
    """Pair a booster with its metadata after checking they agree; raises ArtifactError."""
    objective = _objective(booster)
    if not objective.startswith(_BINARY_OBJECTIVES):
        raise ArtifactError(f"{where}: booster objective is {objective!r}; a binary classifier is required")
    expected = len(metadata.feature_names)
    if booster.num_feature() != expected:
        raise ArtifactError(
            f"{where}: the booster has {booster.num_feature()} features but metadata.json names {expected}"
        )
    booster_names = tuple(booster.feature_name())
    generic = tuple(f"Column_{index}" for index in range(expected))
    if booster_names not in (metadata.feature_names, generic):
        mismatched = next(
            (
                index
                for index, pair in enumerate(zip(booster_names, metadata.feature_names, strict=True))
                if len(set(pair)) > 1
            ),
            0,
        )
        raise ArtifactError(
            f"{where}: feature {mismatched} is {booster_names[mismatched]!r} in the booster but "
            f"{metadata.feature_names[mismatched]!r} in metadata.json"
        )
    if len(metadata.scaler.mean) != expected:
        raise ArtifactError(f"{where}: scaler has {len(metadata.scaler.mean)} entries, expected {expected}")
    return ModelArtifact(booster=booster, metadata=metadata)


def training_params(seed: int, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The effective LightGBM parameters: defaults, then `params`, then the determinism switches."""
    effective = {**DEFAULT_PARAMS, **(params or {})}
    effective.update(
        deterministic=True,
        force_row_wise=True,
        force_col_wise=False,
        seed=seed,
        num_threads=int(effective["num_threads"]),
    )
    return effective


def train_booster(
    features: npt.ArrayLike,
    labels: npt.ArrayLike,
    feature_names: Sequence[str],
    seed: int,
    params: Mapping[str, Any] | None = None,
) -> lightgbm.Booster:
    """Train a binary LightGBM booster, bit-for-bit reproducible for the same inputs and seed.

    Args:
        features: [rows, len(feature_names)] matrix; NaN means missing.
        labels: 0/1 per row.
        params: overrides of DEFAULT_PARAMS (num_iterations sets the number of trees).
    """
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise ValueError(f"features must be [rows, {len(feature_names)}], got {matrix.shape}")
    dataset = lightgbm.Dataset(
        matrix,
        label=np.asarray(labels, dtype=np.float64),
        feature_name=list(feature_names),
        free_raw_data=True,
        params={"verbosity": -1},
    )
    return lightgbm.train(training_params(seed, params), dataset)


def _parse_booster(model_bytes: bytes, path: Path) -> lightgbm.Booster:
    try:
        text = model_bytes.decode()
    except UnicodeDecodeError:
        raise ArtifactError(f"corrupt {path}: not LightGBM booster text") from None
    problem = _structure_problem(model_bytes)
    if problem:
        raise ArtifactError(f"corrupt {path}: {problem}")
    try:
        return lightgbm.Booster(model_str=text)
    except lightgbm.basic.LightGBMError as error:
        raise ArtifactError(f"corrupt {path}: {str(error).splitlines()[0]}") from None


def _structure_problem(model_bytes: bytes) -> str | None:
    """Why the text is not a whole booster, or None.

    LightGBM parses trees in parallel at the offsets listed in tree_sizes and aborts the whole
    process (not an exception) when a file is truncated, so the layout is checked first.
    """
    if not model_bytes.startswith(b"tree\n"):
        return "not LightGBM booster text (no 'tree' header)"
    header, _, _ = model_bytes.partition(b"\n\n")
    sizes_line = next((line for line in header.splitlines() if line.startswith(b"tree_sizes=")), None)
    end = model_bytes.find(b"end of trees")
    if end < 0:
        return "truncated (no 'end of trees' marker)"
    if sizes_line is None:
        return None
    try:
        sizes = [int(size) for size in sizes_line.removeprefix(b"tree_sizes=").split()]
    except ValueError:
        return "malformed tree_sizes line"
    offset = model_bytes.find(b"Tree=0\n")
    if offset < 0:
        return "no trees" if sizes else None
    for index, size in enumerate(sizes):
        if not model_bytes.startswith(f"Tree={index}\n".encode(), offset):
            return f"tree {index} is not where tree_sizes says (truncated or edited)"
        offset += size
    if offset != end:
        return "tree sizes do not add up to the tree section (truncated or edited)"
    return None


def _objective(booster: lightgbm.Booster) -> str:
    # The model text header names the canonical objective; booster.params may hold an alias.
    header, _, _ = booster.model_to_string().partition("\n\n")
    line = next((line for line in header.splitlines() if line.startswith("objective=")), "objective=")
    return line.removeprefix("objective=")
