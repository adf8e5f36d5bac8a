"""`python -m services.model` in a subprocess: V2 REST + gRPC, V1 predict/explain, errors, clients.

Tolerances: scores travel as FP32, so a served score must equal float32(booster.predict(x))
exactly, and booster.predict(x) within rtol 1e-6 (FP32 keeps ~7 significant digits).
Explanations travel as JSON float64; contributions + base value must equal the raw score
within 1e-6 (observed ~1e-7 through the client, whose contributions are float32 by contract).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from services.adapters.kserve_client import KServeModelClient
from services.adapters.kserve_sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve_sdk import grpc_predict_v2_pb2_grpc as pb_grpc
from services.core.errors import BadRequestError, DependencyUnavailable
from services.model.artifact import ModelArtifact
from services.model.synthetic import synthetic_artifact, synthetic_data

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    rest: str
    grpc: str
    artifact: ModelArtifact
    log: Path


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_artifact(rows=5000, seed=13).save(tmp_path_factory.mktemp("model") / "fraud-v1")


@pytest.fixture(scope="module")
def server(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    http_port, grpc_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("model-server") / "server.log"
    command = [
        sys.executable, "-m", "services.model", "--model-dir", str(artifact_dir),
        "--http-port", str(http_port), "--grpc-port", str(grpc_port),
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_ready(process, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", log)
        yield Server(
            f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", ModelArtifact.load(artifact_dir), log
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _wait_ready(process: subprocess.Popen[bytes], rest: str, target: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"model server exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{rest}/v2/health/ready", timeout=1).status_code == 200:
                with grpc.insecure_channel(target) as channel:
                    grpc.channel_ready_future(channel).result(timeout=max(1.0, deadline - time.monotonic()))
                return
        except (httpx.TransportError, grpc.FutureTimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"model server not ready in 60 s:\n{_tail(log)}")


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
    expected = server.artifact.booster.predict(rows)
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

    instances = [[None if np.isnan(value) else value for value in row] for row in rows[:50].tolist()]
    body = httpx.post(f"{server.rest}/v1/models/fraud:explain", json={"instances": instances}, timeout=10)
    assert body.status_code == 200, body.text
    document = body.json()
    exact = np.asarray(document["contributions"]).sum(axis=1) + np.asarray(document["base_value"])
    np.testing.assert_allclose(exact, raw[:50], rtol=0, atol=1e-9)
    np.testing.assert_allclose(document["raw_scores"], raw[:50], rtol=0, atol=0)


def test_v1_predict(server: Server, rows: np.ndarray) -> None:
    finite = np.nan_to_num(rows[:20]).astype(np.float64)

    reply = httpx.post(f"{server.rest}/v1/models/fraud:predict", json={"instances": finite.tolist()}, timeout=10)

    assert reply.status_code == 200, reply.text
    np.testing.assert_array_equal(reply.json()["predictions"], server.artifact.booster.predict(finite))


def test_model_metadata_over_rest_and_grpc(server: Server) -> None:
    names = list(server.artifact.feature_names)
    document = httpx.get(f"{server.rest}/v2/models/fraud", timeout=5).json()

    assert document["versions"] == [server.artifact.version]
    assert document["inputs"][0] == {"name": "features", "datatype": "FP32", "shape": [-1, len(names)]}
    assert [tensor["name"] for tensor in document["inputs"][1:]] == names
    assert [(tensor["name"], tensor["datatype"]) for tensor in document["outputs"]] == [
        ("score", "FP32"), ("label", "INT32"),
    ]
    with grpc.insecure_channel(server.grpc) as channel:
        metadata = pb_grpc.GRPCInferenceServiceStub(channel).ModelMetadata(pb.ModelMetadataRequest(name="fraud"))
    assert [tensor.name for tensor in metadata.inputs] == ["features", *names]
    assert [tensor.name for tensor in metadata.outputs] == ["score", "label"]


def test_tritonclient_http_and_grpc_get_the_same_answers(server: Server, rows: np.ndarray, tmp_path: Path) -> None:
    # A separate process: tritonclient's gRPC stubs and KServe's cannot share one protobuf pool.
    np.save(tmp_path / "rows.npy", rows)
    probe = subprocess.run(
        [sys.executable, "-m", "tests.integration.triton_probe", server.rest.removeprefix("http://"),
         server.grpc, "fraud", str(tmp_path / "rows.npy"), str(tmp_path / "answers.npz")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert probe.returncode == 0, f"{probe.stderr[-3000:]}\nserver log:\n{_tail(server.log)}"
    answers = np.load(tmp_path / "answers.npz")

    expected = server.artifact.booster.predict(rows).astype(np.float32)
    for kind in ("http", "grpc"):
        assert answers[f"{kind}_ready"].all(), kind
        np.testing.assert_array_equal(answers[f"{kind}_score"], expected, err_msg=kind)
        np.testing.assert_array_equal(answers[f"{kind}_label"], (expected >= 0.5).astype(np.int32), err_msg=kind)
    assert str(answers["http_rejection"][0]).startswith("400|"), answers["http_rejection"]
    assert str(answers["grpc_rejection"][0]).startswith("StatusCode.INVALID_ARGUMENT|"), answers["grpc_rejection"]
    for kind in ("http", "grpc"):
        assert "shape [N, 10], got [1, 3]" in str(answers[f"{kind}_rejection"][0])


def _rest_input(shape: list[int], datatype: str, data: list[object], name: str = "features") -> dict[str, object]:
    return {"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}


MALFORMED_REST = {
    "wrong feature count": (_rest_input([1, 3], "FP32", [1, 2, 3]), "shape [N, 10], got [1, 3]"),
    "shape does not fit data": (_rest_input([2, 10], "FP32", [0.0] * 10), "data does not match shape"),
    "bytes datatype": (_rest_input([1, 10], "BYTES", ["x"] * 10), "datatype BYTES"),
    "unknown input": (_rest_input([1, 10], "FP32", [0.0] * 10, name="pixels"), "unknown inputs ['pixels']"),
    "empty batch": (_rest_input([0, 10], "FP32", []), "empty batch"),
    "missing shape": ({"inputs": [{"name": "features", "datatype": "FP32", "data": [0.0]}]}, "shape: Field required"),
    "not json": (b"{nope", "not JSON"),
}


@pytest.mark.parametrize(("body", "reason"), list(MALFORMED_REST.values()), ids=list(MALFORMED_REST))
def test_malformed_rest_requests_get_400_with_a_reason(server: Server, body: object, reason: str) -> None:
    url = f"{server.rest}/v2/models/fraud/infer"
    options = {"content": body} if isinstance(body, bytes) else {"json": body}

    reply = httpx.post(url, headers={"content-type": "application/json"}, timeout=5, **options)  # type: ignore[arg-type]

    assert reply.status_code == 400, reply.text
    assert reason in reply.json()["error"]


def test_malformed_binary_rest_request_gets_400(server: Server) -> None:
    header = b'{"inputs":[{"name":"features","shape":[2,10],"datatype":"FP32","parameters":{"binary_data_size":8}}]}'
    reply = httpx.post(
        f"{server.rest}/v2/models/fraud/infer",
        content=header + b"\x00" * 8,
        headers={"content-type": "application/octet-stream", "inference-header-content-length": str(len(header))},
        timeout=5,
    )

    assert reply.status_code == 400, reply.text
    assert "malformed binary tensor request" in reply.json()["error"]


def test_malformed_v1_requests_get_400(server: Server) -> None:
    for body, reason in (({"instances": [[1.0, 2.0]]}, "expected 10 features"), ({"rows": []}, "instances")):
        for verb in ("predict", "explain"):
            reply = httpx.post(f"{server.rest}/v1/models/fraud:{verb}", json=body, timeout=5)
            assert reply.status_code == 400, reply.text
            assert reason in reply.json()["error"]


def _grpc_request(shape: list[int], datatype: str, raw: bytes, name: str = "features") -> pb.ModelInferRequest:
    tensor = pb.ModelInferRequest.InferInputTensor(name=name, datatype=datatype, shape=shape)
    return pb.ModelInferRequest(model_name="fraud", inputs=[tensor], raw_input_contents=[raw])


MALFORMED_GRPC = {
    "wrong feature count": (_grpc_request([1, 3], "FP32", bytes(12)), "shape [N, 10], got [1, 3]"),
    "raw size does not fit shape": (_grpc_request([2, 10], "FP32", bytes(40)), "data does not match shape"),
    "bytes datatype": (_grpc_request([1, 10], "BYTES", bytes(40)), "datatype BYTES"),
    "unknown input": (_grpc_request([1, 10], "FP32", bytes(40), name="pixels"), "unknown inputs ['pixels']"),
    "empty batch": (_grpc_request([0, 10], "FP32", b""), "empty batch"),
}


@pytest.mark.parametrize(("request_", "reason"), list(MALFORMED_GRPC.values()), ids=list(MALFORMED_GRPC))
def test_malformed_grpc_requests_get_invalid_argument(server: Server, request_: pb.ModelInferRequest, reason: str) -> None:
    with grpc.insecure_channel(server.grpc) as channel, pytest.raises(grpc.RpcError) as caught:
        pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request_, timeout=5)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in (caught.value.details() or "")


async def test_client_maps_a_rejected_request_to_bad_request(server: Server) -> None:
    for client in _clients(server).values():
        with pytest.raises(BadRequestError, match=r"kserve: .*expected 10 features|shape \[N, 10\]"):
            await client.predict(np.zeros((2, 3), dtype=np.float32))
        await client.close()


def test_missing_artifact_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.model", "--model-dir", str(tmp_path / "absent"),
         "--http-port", str(free_port()), "--grpc-port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"python -m services.model: cannot serve model 'fraud': model artifact directory not found: {tmp_path / 'absent'}"
    ]


def test_corrupt_artifact_exits_non_zero(tmp_path: Path, artifact_dir: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.json").write_text((artifact_dir / "metadata.json").read_text())
    (broken / "model.txt").write_text("tree\nversion=v4\n")

    result = subprocess.run(
        [sys.executable, "-m", "services.model", "--model-dir", str(broken)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode == 1
    assert "does not match the sha256" in result.stderr and "Traceback" not in result.stderr


async def test_server_not_running_is_dependency_unavailable() -> None:
    port = free_port()
    clients = [
        KServeModelClient(f"http://127.0.0.1:{port}", "fraud", "rest", 2.0),
        KServeModelClient(f"127.0.0.1:{port}", "fraud", "grpc", 2.0),
    ]
    for client in clients:
        with pytest.raises(DependencyUnavailable, match="^kserve: ") as caught:
            await client.predict(np.zeros((1, 10), dtype=np.float32))
        assert caught.value.dependency == "kserve" and caught.value.retryable
        await client.close()
