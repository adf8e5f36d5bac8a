"""Embedding = (x - mean) / scale as float32, from the model artifact or fitted on the cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.core.embedding import Standardizer

pytestmark = pytest.mark.unit


def test_standardizes_with_the_stored_scaler(tmp_path: Path) -> None:
    metadata = {
        "version": "v1",
        "created_at": "2026-01-01T00:00:00Z",
        "feature_names": ["amount", "velocity"],
        "feature_service": "fraud_v1",
        "training_window": {"start": "2025-12-01T00:00:00Z", "end": "2025-12-25T00:00:00Z"},
        "holdout_window": {"start": "2025-12-25T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        "metrics": {"roc_auc": 0.9, "pr_auc": 0.5, "recall_at_fpr": {"fpr": 0.01, "recall": 0.4}},
        "thresholds": {"label": 0.5, "review": 0.5, "decline": 0.9},
        "scaler": {"mean": [10.0, 2.0], "scale": [5.0, 0.5]},
        "seed": 1,
    }
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))

    standardizer = Standardizer.from_model_dir(tmp_path)
    embedding = standardizer.embed([[20.0, 2.0], [0.0, 3.0]])

    assert standardizer.feature_names == ("amount", "velocity")
    assert embedding.dtype == np.float32
    assert embedding.tolist() == [[2.0, 0.0], [-2.0, 2.0]]


def test_constant_feature_divides_by_one() -> None:
    standardizer = Standardizer.fit(["a", "b"], [[1.0, 7.0], [3.0, 7.0]])

    assert standardizer.embed([[2.0, 9.0]]).tolist() == [[0.0, 2.0]]


def test_missing_value_maps_to_the_mean() -> None:
    standardizer = Standardizer.fit(["a", "b"], [[1.0, np.nan], [3.0, 5.0], [5.0, 7.0]])

    assert standardizer.mean.tolist() == [3.0, 6.0]
    assert standardizer.embed([[np.nan, 6.0]]).tolist() == [[0.0, 0.0]]


def test_fitted_embedding_has_zero_mean_unit_variance() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(loc=50, scale=12, size=(1000, 3))

    embedding = Standardizer.fit(["a", "b", "c"], features).embed(features)

    assert np.abs(embedding.mean(axis=0)).max() < 1e-4
    assert np.abs(embedding.std(axis=0) - 1).max() < 1e-4


def test_rejects_wrong_width_and_incomplete_metadata(tmp_path: Path) -> None:
    standardizer = Standardizer.fit(["a", "b"], [[1.0, 2.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="rows of 2 features"):
        standardizer.embed([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="2 means"):
        Standardizer(("a", "b"), np.zeros(3), np.ones(3))
    (tmp_path / "metadata.json").write_text(json.dumps({"feature_names": ["a"]}))
    with pytest.raises(ValueError, match="scaler"):
        Standardizer.from_model_dir(tmp_path)


def test_index_time_embedding_equals_query_time_embedding() -> None:
    from services.core.model_metadata import Scaler

    rng = np.random.default_rng(5)
    features = rng.normal(loc=3, scale=2, size=(50, 4))
    features[3, 1] = np.nan
    mean, scale = features[~np.isnan(features).any(axis=1)].mean(axis=0), np.array([0.5, 1.0, 2.0, 4.0])

    ours = Standardizer(("a", "b", "c", "d"), mean, scale).embed(features)
    scoring = Scaler(mean=tuple(mean), scale=tuple(scale)).embed(features)

    assert np.array_equal(ours, scoring)
