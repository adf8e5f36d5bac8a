"""ModelServerApp before it serves: start() loads and checks, a taken port or a bad artifact is
a one-line error, stop() unloads. (Serving itself: tests/integration/test_model_server*.py.)"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rtinfer.model.synthetic import synthetic_artifact
from services.model.app import ModelLoadError, ModelServerApp, PortInUseError, build_server
from services.model.artifact import ArtifactError
from services.model.repository import ReadOnlyRepository
from services.model.settings import ModelServerSettings

pytestmark = pytest.mark.unit


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_start_loads_the_artifact_and_builds_the_server_then_stop_unloads(artifact_dir: Path) -> None:
    settings = ModelServerSettings(model_dir=artifact_dir, http_port=_free_port(), enable_grpc=False)
    app = ModelServerApp(settings)
    app.start()
    assert app.model.ready and app.server is not None
    assert app.server.http_port == settings.http_port and not app.server.serve_grpc
    app.stop()
    assert not app.model.ready and app.server is None


def test_extra_models_load_beside_the_main_one_and_unload_with_it(artifact_dir: Path, tmp_path: Path) -> None:
    challenger_dir = synthetic_artifact(rows=1500, seed=12, num_iterations=10).save(tmp_path / "challenger")
    settings = ModelServerSettings(
        model_dir=artifact_dir,
        extra_models={"fraud-challenger": challenger_dir},
        http_port=_free_port(),
        enable_grpc=False,
    )
    app = ModelServerApp(settings)

    app.start()

    assert [(model.name, model.ready) for model in app.models] == [
        ("fraud", True),
        ("fraud-challenger", True),
    ]
    assert app.models[0] is app.model
    assert app.models[0].version != app.models[1].version == "synthetic-12-1500"
    app.stop()
    assert not any(model.ready for model in app.models)


def test_a_missing_extra_artifact_names_its_model_and_leaves_nothing_loaded(
    artifact_dir: Path, tmp_path: Path
) -> None:
    settings = ModelServerSettings(
        model_dir=artifact_dir, extra_models={"fraud-challenger": tmp_path / "absent"}, enable_grpc=False
    )
    app = ModelServerApp(settings)

    with pytest.raises(ModelLoadError, match="model artifact directory not found") as caught:
        app.start()

    assert caught.value.model_name == "fraud-challenger"
    assert isinstance(caught.value, ArtifactError) and app.server is None
    assert not app.model.ready


def test_a_taken_port_is_refused_before_serving(artifact_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        app = ModelServerApp(ModelServerSettings(model_dir=artifact_dir, http_port=port, enable_grpc=False))
        with pytest.raises(PortInUseError, match=f"port {port} is not available"):
            app.start()
    assert app.server is None


def test_a_missing_artifact_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        ModelServerApp(ModelServerSettings(model_dir=tmp_path / "absent")).start()


def test_the_built_server_refuses_repository_writes_by_default_and_serves_its_own_grpc(
    artifact_dir: Path,
) -> None:
    server = build_server(ModelServerSettings(model_dir=artifact_dir))
    writable = build_server(ModelServerSettings(model_dir=artifact_dir, repository_writes=True))

    assert isinstance(server.model_repository_extension, ReadOnlyRepository)
    assert not isinstance(writable.model_repository_extension, ReadOnlyRepository)
    # KServe's own gRPC server is off; IndexedGRPCServer (with RepositoryIndex) takes its place.
    assert server.serve_grpc and not server.enable_grpc
