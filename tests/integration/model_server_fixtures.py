"""The model server on a synthetic artifact, shared by the model server test modules; and one
server serving a champion plus a challenger (two artifact versions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from rtinfer.model.launcher import ModelServerStartError, running_model_server
from rtinfer.model.synthetic import synthetic_artifact
from services.model.artifact import ModelArtifact


@dataclass(frozen=True)
class Server:
    rest: str
    grpc: str
    artifact: ModelArtifact
    log: Path


@pytest.fixture(scope="module")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_artifact(rows=5000, seed=13).save(tmp_path_factory.mktemp("model") / "fraud-v1")


@pytest.fixture(scope="module")
def server(artifact_dir: Path) -> Iterator[Server]:
    """`python -m services.model` on free ports, ready on REST and gRPC; terminated afterwards."""
    with ExitStack() as stack:
        try:
            running = stack.enter_context(running_model_server(artifact_dir))
        except ModelServerStartError as error:
            pytest.fail(str(error))  # carries the server's log tail
        yield Server(
            running.rest_url, running.grpc_target, ModelArtifact.load(artifact_dir), running.log_path
        )


CHALLENGER = "fraud-challenger"


@dataclass(frozen=True)
class MultiServer:
    rest: str
    grpc: str
    artifacts: dict[str, ModelArtifact]  # served name -> artifact, the champion ("fraud") first
    log: Path


@pytest.fixture(scope="module")
def challenger_artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another synthetic artifact (other seed and size, so another version and other scores)."""
    return synthetic_artifact(rows=4000, seed=29).save(tmp_path_factory.mktemp("model") / "fraud-v2")


@pytest.fixture(scope="module")
def champion_and_challenger(artifact_dir: Path, challenger_artifact_dir: Path) -> Iterator[MultiServer]:
    """One `python -m services.model` serving "fraud" and, as an extra model, "fraud-challenger"."""
    with ExitStack() as stack:
        try:
            running = stack.enter_context(
                running_model_server(artifact_dir, extra_models={CHALLENGER: challenger_artifact_dir})
            )
        except ModelServerStartError as error:
            pytest.fail(str(error))
        artifacts = {
            "fraud": ModelArtifact.load(artifact_dir),
            CHALLENGER: ModelArtifact.load(challenger_artifact_dir),
        }
        yield MultiServer(running.rest_url, running.grpc_target, artifacts, running.log_path)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
