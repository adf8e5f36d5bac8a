"""The artifact: save/load round trip, one clear ArtifactError per way it can be wrong, determinism."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rtinfer.model.synthetic import synthetic_data
from services.core.model_metadata import ArtifactMetadata, Scaler
from services.model.artifact import (
    METADATA_FILE,
    MODEL_FILE,
    ArtifactError,
    ModelArtifact,
    build_artifact,
    train_booster,
)

pytestmark = pytest.mark.unit


def _edit_metadata(directory: Path, change: Callable[[dict], None]) -> None:
    document = json.loads((directory / METADATA_FILE).read_text())
    change(document)
    (directory / METADATA_FILE).write_text(json.dumps(document))


def test_save_then_load_round_trips(artifact_dir: Path, small_artifact: ModelArtifact) -> None:
    loaded = ModelArtifact.load(artifact_dir)

    assert loaded.metadata.model_sha256 is not None
    assert loaded.metadata.model_copy(update={"model_sha256": None}) == small_artifact.metadata
    rows = synthetic_data(200, seed=3).features
    np.testing.assert_array_equal(loaded.booster.predict(rows), small_artifact.booster.predict(rows))


def test_metadata_json_has_the_documented_fields(artifact_dir: Path) -> None:
    document = json.loads((artifact_dir / METADATA_FILE).read_text())

    assert {
        "name",
        "version",
        "created_at",
        "feature_names",
        "feature_service",
        "training_window",
        "holdout_window",
        "metrics",
        "thresholds",
        "scaler",
        "seed",
        "params",
        "reference",
    } <= document.keys()
    assert document["metrics"]["recall_at_fpr"].keys() == {"fpr", "recall"}
    assert document["thresholds"].keys() == {"label", "review", "decline"}
    assert document["created_at"].endswith(("Z", "+00:00"))


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"model artifact directory not found: .*nowhere"):
        ModelArtifact.load(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("missing", "what"), [(MODEL_FILE, "LightGBM booster text"), (METADATA_FILE, "metadata")]
)
def test_missing_file(artifact_dir: Path, missing: str, what: str) -> None:
    (artifact_dir / missing).unlink()

    with pytest.raises(ArtifactError, match=rf"has no {missing} \({what}"):
        ModelArtifact.load(artifact_dir)


def test_corrupt_booster_text(artifact_dir: Path) -> None:
    (artifact_dir / MODEL_FILE).write_text("this is not a booster\n")
    _edit_metadata(artifact_dir, lambda document: document.update(model_sha256=None))

    with pytest.raises(ArtifactError, match=r"corrupt .*model\.txt: not LightGBM booster text"):
        ModelArtifact.load(artifact_dir)


def test_truncated_booster_without_checksum_is_caught_before_lightgbm(artifact_dir: Path) -> None:
    # LightGBM aborts the process on a truncated file; the layout check must stop it first.
    text = (artifact_dir / MODEL_FILE).read_bytes()
    (artifact_dir / MODEL_FILE).write_bytes(text[: len(text) // 2])
    _edit_metadata(artifact_dir, lambda document: document.update(model_sha256=None))

    with pytest.raises(ArtifactError, match=r"corrupt .*model\.txt: truncated"):
        ModelArtifact.load(artifact_dir)


def test_edited_tree_section_is_caught(artifact_dir: Path) -> None:
    text = (artifact_dir / MODEL_FILE).read_bytes()
    (artifact_dir / MODEL_FILE).write_bytes(text.replace(b"Tree=1\n", b"Tree=1\nextra=1\n", 1))
    _edit_metadata(artifact_dir, lambda document: document.update(model_sha256=None))

    with pytest.raises(ArtifactError, match=r"corrupt .*tree 2 is not where tree_sizes says"):
        ModelArtifact.load(artifact_dir)


def test_model_not_matching_its_checksum(artifact_dir: Path) -> None:
    text = (artifact_dir / MODEL_FILE).read_bytes()
    (artifact_dir / MODEL_FILE).write_bytes(text[:-10])

    with pytest.raises(ArtifactError, match=r"does not match the sha256 recorded in metadata\.json"):
        ModelArtifact.load(artifact_dir)


def test_metadata_not_json(artifact_dir: Path) -> None:
    (artifact_dir / METADATA_FILE).write_text("{not json")

    with pytest.raises(ArtifactError, match=r"invalid .*metadata\.json: not JSON"):
        ModelArtifact.load(artifact_dir)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda document: document.pop("thresholds"), r"thresholds: Field required"),
        (
            lambda document: document.update(created_at="2026-01-01T00:00:00"),
            r"created_at: Input should have timezone",
        ),
        (
            lambda document: document["scaler"].update(mean=[0.0], scale=[1.0]),
            r"scaler has 1 entries but there are 10 feature names",
        ),
        (lambda document: document["scaler"].update(scale=[0.0] * 10), r"scaler scales must be positive"),
        (lambda document: document.update(feature_names=["a"] * 10), r"duplicate feature names: \['a'\]"),
        (
            lambda document: document["thresholds"].update(label=1.5),
            r"thresholds\.label: Input should be less",
        ),
        (lambda document: document.update(surprise=1), r"surprise: Extra inputs are not permitted"),
    ],
)
def test_invalid_metadata(artifact_dir: Path, change: Callable[[dict], None], message: str) -> None:
    _edit_metadata(artifact_dir, change)

    with pytest.raises(ArtifactError, match=rf"invalid .*metadata\.json: .*{message}"):
        ModelArtifact.load(artifact_dir)


def test_feature_count_of_booster_differs_from_metadata(artifact_dir: Path) -> None:
    def drop_last_feature(document: dict) -> None:
        for key in ("mean", "scale"):
            document["scaler"][key] = document["scaler"][key][:-1]
        document["feature_names"] = document["feature_names"][:-1]

    _edit_metadata(artifact_dir, drop_last_feature)

    with pytest.raises(ArtifactError, match=r"the booster has 10 features but metadata\.json names 9"):
        ModelArtifact.load(artifact_dir)


def test_feature_names_of_booster_differ_from_metadata(artifact_dir: Path) -> None:
    _edit_metadata(artifact_dir, lambda document: document["feature_names"].__setitem__(2, "renamed"))

    with pytest.raises(ArtifactError, match=r"feature 2 is 'card_txn_count_1h' in the booster but 'renamed'"):
        ModelArtifact.load(artifact_dir)


def test_scaler_length_mismatch_in_build_artifact(small_artifact: ModelArtifact) -> None:
    # Metadata validation already refuses this; build_artifact checks again for constructed objects.
    metadata = ArtifactMetadata.model_construct(
        **{**dict(small_artifact.metadata), "scaler": Scaler(mean=(0.0,), scale=(1.0,))}
    )

    with pytest.raises(ArtifactError, match=r"scaler has 1 entries, expected 10"):
        build_artifact(small_artifact.booster, metadata)


def test_a_regression_booster_is_refused(small_artifact: ModelArtifact) -> None:
    data = synthetic_data(300, seed=1)
    booster = train_booster(
        data.features,
        data.labels,
        data.feature_names,
        seed=1,
        params={"objective": "regression", "num_iterations": 3},
    )

    with pytest.raises(ArtifactError, match=r"objective is 'regression'; a binary classifier is required"):
        build_artifact(booster, small_artifact.metadata)


def test_same_seed_gives_identical_model_text_and_predictions() -> None:
    data = synthetic_data(1500, seed=5)
    first = train_booster(
        data.features, data.labels, data.feature_names, seed=42, params={"num_iterations": 15}
    )
    second = train_booster(
        data.features, data.labels, data.feature_names, seed=42, params={"num_iterations": 15}
    )
    other = train_booster(
        data.features, data.labels, data.feature_names, seed=43, params={"num_iterations": 15}
    )

    assert first.model_to_string() == second.model_to_string()
    np.testing.assert_array_equal(first.predict(data.features), second.predict(data.features))
    assert first.model_to_string() != other.model_to_string()


def test_training_refuses_a_matrix_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match=r"features must be \[rows, 3\]"):
        train_booster(np.zeros((10, 2)), np.zeros(10), ["a", "b", "c"], seed=1)


def test_embed_standardises_and_maps_missing_to_zero() -> None:
    scaler = Scaler(mean=(10.0, 0.0), scale=(2.0, 4.0))

    vectors = scaler.embed([[12.0, np.nan], [10.0, -8.0]])

    assert vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, np.array([[1.0, 0.0], [0.0, -2.0]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"features must be \[rows, 2\]"):
        scaler.embed([[1.0, 2.0, 3.0]])


def test_scaler_fit_ignores_missing_values_and_constant_columns() -> None:
    scaler = Scaler.fit([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0]])

    assert scaler.mean == (2.0, 5.0, 2.0)
    assert scaler.scale == (1.0, 1.0, 1.0)
