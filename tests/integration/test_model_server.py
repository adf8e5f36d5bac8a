"""`python -m services.model` in a subprocess: V2 REST + gRPC and V1 answers equal the booster's.

Tolerances: scores travel as FP32, so a served score must equal float32(booster.predict(x))
exactly, and booster.predict(x) within rtol 1e-6 (FP32 keeps ~7 significant digits).
Explanations travel as JSON float64; contributions + base value must equal the raw score
within 1e-6 (observed ~1e-7 through the client, whose contributions are float32 by contract).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from rtinfer.model.synthetic import synthetic_data
from services.adapters.kserve.client import KServeModelClient
from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve.sdk import grpc_predict_v2_pb2_grpc as pb_grpc
from services.model.repository import RepositoryIndexRequest, RepositoryIndexResponse
from tests.integration.model_server_fixtures import Server, _tail

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return synthetic_data(ROWS, seed=99).features.astype(np.float32)  # includes NaN (missing)


def _clients(server: Server) -> dict[str, KServeModelClient]:
    return {
        "rest-binary": KServeModelClient(server.rest, "fraud", "rest", 10.0),
        "rest-json": KServeModelClient(server.rest, "fraud", "rest", 10.0, rest_binary=False),
        "grpc": KServeModelClient(server.grpc, "fraud", "grpc", 10.0, rest_url=server.rest),
    }


async def test_predictions_equal_the_booster_over_rest_and_grpc(server: Server, rows: np.ndarray) -> None:
    expected = np.asarray(server.artifact.booster.predict(rows))
    for name, client in _clients(server).items():
        scores = await client.predict(rows)
        await client.close()

        np.testing.assert_array_equal(scores, expected.astype(np.float32), err_msg=name)
        np.testing.assert_allclose(scores, expected, rtol=1e-6, err_msg=name)


async def test_info_reports_the_artifact(server: Server) -> None:
    metadata = server.artifact.metadata
    for name, client in _clients(server).items():
        info = await client.info()
        await client.close()

        assert (info.name, info.version, info.threshold) == ("fraud", metadata.version, 0.5), name
        assert info.feature_names == metadata.feature_names, name


async def test_explanations_add_up_to_the_raw_score(server: Server, rows: np.ndarray) -> None:
    raw = server.artifact.booster.predict(rows, raw_score=True)
    for name, client in _clients(server).items():
        explanations = await client.explain(rows)
        await client.close()

        total = explanations.contributions.astype(np.float64).sum(axis=1) + explanations.base_values
        np.testing.assert_allclose(total, raw, rtol=0, atol=1e-6, err_msg=name)
        assert explanations.feature_names == server.artifact.feature_names


def test_explain_endpoint_is_exact_in_float64(server: Server, rows: np.ndarray) -> None:
    raw = server.artifact.booster.predict(rows[:50], raw_score=True)
    instances = [[None if np.isnan(value) else value for value in row] for row in rows[:50].tolist()]
    body = httpx.post(f"{server.rest}/v1/models/fraud:explain", json={"instances": instances}, timeout=10)
    assert body.status_code == 200, f"{body.text}\n{_tail(server.log)}"
    document = body.json()
    exact = np.asarray(document["contributions"]).sum(axis=1) + np.asarray(document["base_value"])
    np.testing.assert_allclose(exact, raw[:50], rtol=0, atol=1e-9)
    np.testing.assert_allclose(document["raw_scores"], raw[:50], rtol=0, atol=0)


def test_v1_predict(server: Server, rows: np.ndarray) -> None:
    finite = np.nan_to_num(rows[:20]).astype(np.float64)

    reply = httpx.post(
        f"{server.rest}/v1/models/fraud:predict", json={"instances": finite.tolist()}, timeout=10
    )

    assert reply.status_code == 200, f"{reply.text}\n{_tail(server.log)}"
    np.testing.assert_array_equal(reply.json()["predictions"], server.artifact.booster.predict(finite))


def test_model_metadata_over_rest_and_grpc(server: Server) -> None:
    matrix = ("features", "FP32", [-1, len(server.artifact.feature_names)])
    outputs = [("score", "FP32", [-1]), ("label", "INT32", [-1])]
    document = httpx.get(f"{server.rest}/v2/models/fraud", timeout=5).json()

    assert (document["versions"], document["platform"]) == ([server.artifact.version], "lightgbm")
    assert [(tensor["name"], tensor["datatype"], tensor["shape"]) for tensor in document["inputs"]] == [
        matrix
    ]
    assert [
        (tensor["name"], tensor["datatype"], tensor["shape"]) for tensor in document["outputs"]
    ] == outputs
    with grpc.insecure_channel(server.grpc) as channel:
        metadata = pb_grpc.GRPCInferenceServiceStub(channel).ModelMetadata(
            pb.ModelMetadataRequest(name="fraud")
        )
    assert (list(metadata.versions), metadata.platform) == ([server.artifact.version], "lightgbm")
    assert [(tensor.name, tensor.datatype, list(tensor.shape)) for tensor in metadata.inputs] == [matrix]
    assert [(tensor.name, tensor.datatype, list(tensor.shape)) for tensor in metadata.outputs] == outputs


def test_server_metadata_advertises_the_repository_extension_and_its_index_answers(server: Server) -> None:
    entry = {"name": "fraud", "version": server.artifact.version, "state": "READY", "reason": ""}
    index = f"{server.rest}/v2/repository/index"

    assert httpx.get(f"{server.rest}/v2", timeout=5).json()["extensions"] == ["model_repository_extension"]
    assert httpx.post(index, timeout=5).json() == [entry]  # tritonclient sends an empty body
    assert httpx.post(index, json={"ready": True}, timeout=5).json() == [entry]
    refused = httpx.post(index, json={"ready": "yes"}, timeout=5)
    assert refused.status_code == 400 and "ready" in refused.json()["error"]
    with grpc.insecure_channel(server.grpc) as channel:
        assert list(
            pb_grpc.GRPCInferenceServiceStub(channel).ServerMetadata(pb.ServerMetadataRequest()).extensions
        ) == ["model_repository_extension"]
        call = channel.unary_unary(
            "/inference.GRPCInferenceService/RepositoryIndex",
            request_serializer=RepositoryIndexRequest.SerializeToString,
            response_deserializer=RepositoryIndexResponse.FromString,
        )
        models = call(RepositoryIndexRequest(ready=True), timeout=5).models
    assert [(model.name, model.version, model.state) for model in models] == [
        ("fraud", server.artifact.version, "READY")
    ]


def test_tritonclient_http_and_grpc_get_the_same_answers(
    server: Server, rows: np.ndarray, tmp_path: Path
) -> None:
    # A separate process: tritonclient's gRPC stubs and KServe's cannot share one protobuf pool.
    np.save(tmp_path / "rows.npy", rows)
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.triton_probe",
            server.rest.removeprefix("http://"),
            server.grpc,
            "fraud",
            str(tmp_path / "rows.npy"),
            str(tmp_path / "answers.npz"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, f"{probe.stderr[-3000:]}\nserver log:\n{_tail(server.log)}"
    answers = np.load(tmp_path / "answers.npz")

    expected = np.asarray(server.artifact.booster.predict(rows)).astype(np.float32)
    for kind in ("http", "grpc"):
        assert answers[f"{kind}_ready"].all(), kind
        np.testing.assert_array_equal(answers[f"{kind}_score"], expected, err_msg=kind)
        np.testing.assert_array_equal(
            answers[f"{kind}_label"], (expected >= 0.5).astype(np.int32), err_msg=kind
        )
    assert str(answers["http_rejection"][0]).startswith("400|"), answers["http_rejection"]
    assert str(answers["grpc_rejection"][0]).startswith("StatusCode.INVALID_ARGUMENT|"), answers[
        "grpc_rejection"
    ]
    for kind in ("http", "grpc"):
        assert "shape [N, 10], got [1, 3]" in str(answers[f"{kind}_rejection"][0])
