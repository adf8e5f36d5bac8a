"""A small trained artifact shared by the model unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtinfer.model.synthetic import synthetic_artifact
from services.model.artifact import ModelArtifact


@pytest.fixture(scope="session")
def small_artifact() -> ModelArtifact:
    return synthetic_artifact(rows=2000, seed=11, num_iterations=25)


@pytest.fixture
def artifact_dir(tmp_path: Path, small_artifact: ModelArtifact) -> Path:
    return small_artifact.save(tmp_path / "artifact")
