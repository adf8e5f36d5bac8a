"""One `python -m services.model` serving a champion and a challenger (`--extra-model`): each
answers on its own paths over REST and gRPC with its own artifact's scores and version, the
repository index lists both, and a clash or a missing artifact stops the start with one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from rtinfer.model.launcher import free_port
from rtinfer.model.synthetic import synthetic_data
from services.adapters.kserve.client import KServeModelClient
from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve.sdk import grpc_predict_v2_pb2_grpc as pb_grpc
from services.model.repository import RepositoryIndexRequest, RepositoryIndexResponse
from tests.integration.model_server_fixtures import (
    CHALLENGER,
    MultiServer,
    _tail,
    challenger_artifact_dir,
    champion_and_challenger,
)

# The fixtures this module uses from model_server_fixtures (the conftest imports only the
# single-model ones); listed so that the import counts as used.
__all__ = ["challenger_artifact_dir", "champion_and_challenger"]

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("fraud", CHALLENGER)


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return synthetic_data(500, seed=101).features.astype(np.float32)


def test_the_two_artifacts_are_two_versions(champion_and_challenger: MultiServer) -> None:
    versions = {name: artifact.version for name, artifact in champion_and_challenger.artifacts.items()}
    assert list(versions) == list(NAMES)
    assert versions["fraud"] != versions[CHALLENGER], versions


async def test_each_model_scores_with_its_own_booster_over_rest_and_grpc(
    champion_and_challenger: MultiServer, rows: np.ndarray
) -> None:
    server = champion_and_challenger
    scores: dict[str, np.ndarray] = {}
    for name in NAMES:
        expected = np.asarray(server.artifacts[name].booster.predict(rows)).astype(np.float32)
        for transport, client in {
            "rest": KServeModelClient(server.rest, name, "rest", 10.0),
            "grpc": KServeModelClient(server.grpc, name, "grpc", 10.0, rest_url=server.rest),
        }.items():
            served = await client.predict(rows)
            info = await client.info()
            await client.close()
            np.testing.assert_array_equal(served, expected, err_msg=f"{name} over {transport}")
            assert (info.name, info.version) == (name, server.artifacts[name].version), transport
        scores[name] = expected
    # Two different models: not the same answers under two names.
    assert not np.array_equal(scores["fraud"], scores[CHALLENGER])


def test_model_metadata_gives_each_model_its_version(champion_and_challenger: MultiServer) -> None:
    server = champion_and_challenger
    with grpc.insecure_channel(server.grpc) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        for name in NAMES:
            version = server.artifacts[name].version
            document = httpx.get(f"{server.rest}/v2/models/{name}", timeout=5).json()
            metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=name), timeout=5)
            assert (document["name"], document["versions"]) == (name, [version]), _tail(server.log)
            assert (metadata.name, list(metadata.versions)) == (name, [version])
            assert httpx.get(f"{server.rest}/v2/models/{name}/ready", timeout=5).status_code == 200


def test_the_repository_index_lists_both_models(champion_and_challenger: MultiServer) -> None:
    server = champion_and_challenger
    expected = [(name, server.artifacts[name].version, "READY") for name in NAMES]
    entries = httpx.post(f"{server.rest}/v2/repository/index", timeout=5).json()
    assert [(entry["name"], entry["version"], entry["state"]) for entry in entries] == expected
    with grpc.insecure_channel(server.grpc) as channel:
        call = channel.unary_unary(
            "/inference.GRPCInferenceService/RepositoryIndex",
            request_serializer=RepositoryIndexRequest.SerializeToString,
            response_deserializer=RepositoryIndexResponse.FromString,
        )
        models = call(RepositoryIndexRequest(ready=True), timeout=5).models
    assert [(model.name, model.version, model.state) for model in models] == expected


def test_v1_explain_answers_for_the_challenger(
    champion_and_challenger: MultiServer, rows: np.ndarray
) -> None:
    server = champion_and_challenger
    finite = np.nan_to_num(rows[:20]).astype(np.float64)
    raw = server.artifacts[CHALLENGER].booster.predict(finite, raw_score=True)

    reply = httpx.post(
        f"{server.rest}/v1/models/{CHALLENGER}:explain", json={"instances": finite.tolist()}, timeout=10
    )

    assert reply.status_code == 200, f"{reply.text}\n{_tail(server.log)}"
    document = reply.json()
    assert (document["model_name"], document["model_version"]) == (
        CHALLENGER,
        server.artifacts[CHALLENGER].version,
    )
    total = np.asarray(document["contributions"]).sum(axis=1) + np.asarray(document["base_value"])
    np.testing.assert_allclose(total, raw, rtol=0, atol=1e-9)


def _serve(arguments: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m services.model` expected to refuse to start (it would otherwise serve forever)."""
    ports = ["--http-port", str(free_port()), "--grpc-port", str(free_port())]
    return subprocess.run(
        [sys.executable, "-m", "services.model", *arguments, *ports],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_extra_model_named_like_the_main_one_exits_2_with_one_line(artifact_dir: Path) -> None:
    result = _serve(["--model-dir", str(artifact_dir), "--extra-model", f"fraud={artifact_dir}"])

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "python -m services.model: invalid settings: extra_models: "
        "Value error, extra model 'fraud' has the main model's name (--model-name)"
    ]


def test_the_same_extra_name_twice_exits_2_with_one_line(artifact_dir: Path) -> None:
    twice = ["--extra-model", f"{CHALLENGER}={artifact_dir}"] * 2
    result = _serve(["--model-dir", str(artifact_dir), *twice])

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"python -m services.model: invalid settings: extra_models: Value error, model '{CHALLENGER}' is given twice"
    ]


def test_a_missing_extra_artifact_exits_like_a_missing_main_one(artifact_dir: Path, tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    # Given through the environment, the JSON object form.
    result = _serve(
        ["--model-dir", str(artifact_dir)],
        env={"RTINFER_MODEL_EXTRA_MODELS": json.dumps({CHALLENGER: str(absent)})},
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"python -m services.model: cannot serve model '{CHALLENGER}': model artifact directory not found: {absent}"
    ]
