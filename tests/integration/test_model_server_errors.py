"""`python -m services.model` refusing what it cannot serve: 400 / INVALID_ARGUMENT with a reason,
a clear exit on a bad artifact, and DependencyUnavailable when no server is there.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from rtinfer.model.launcher import free_port
from services.adapters.kserve.client import KServeModelClient
from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve.sdk import grpc_predict_v2_pb2_grpc as pb_grpc
from services.core.errors import BadRequestError, DependencyUnavailable
from tests.integration.model_server_fixtures import Server, _tail

ROOT = Path(__file__).resolve().parents[2]


def _rest_input(
    shape: list[int], datatype: str, data: list[object], name: str = "features"
) -> dict[str, object]:
    return {"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}


MALFORMED_REST = {
    "wrong feature count": (_rest_input([1, 3], "FP32", [1, 2, 3]), "shape [N, 10], got [1, 3]"),
    "shape does not fit data": (_rest_input([2, 10], "FP32", [0.0] * 10), "data does not match shape"),
    "bytes datatype": (_rest_input([1, 10], "BYTES", ["x"] * 10), "datatype BYTES"),
    "unknown input": (_rest_input([1, 10], "FP32", [0.0] * 10, name="pixels"), "unknown inputs ['pixels']"),
    "empty batch": (_rest_input([0, 10], "FP32", []), "empty batch"),
    "missing shape": (
        {"inputs": [{"name": "features", "datatype": "FP32", "data": [0.0]}]},
        "shape: Field required",
    ),
    "not json": (b"{nope", "not JSON"),
}


@pytest.mark.parametrize(("body", "reason"), list(MALFORMED_REST.values()), ids=list(MALFORMED_REST))
def test_malformed_rest_requests_get_400_with_a_reason(server: Server, body: object, reason: str) -> None:
    url = f"{server.rest}/v2/models/fraud/infer"
    options = {"content": body} if isinstance(body, bytes) else {"json": body}

    reply = httpx.post(url, headers={"content-type": "application/json"}, timeout=5, **options)  # type: ignore[arg-type]

    assert reply.status_code == 400, f"{reply.text}\n{_tail(server.log)}"
    assert reason in reply.json()["error"]


def test_malformed_binary_rest_request_gets_400(server: Server) -> None:
    header = b'{"inputs":[{"name":"features","shape":[2,10],"datatype":"FP32","parameters":{"binary_data_size":8}}]}'
    reply = httpx.post(
        f"{server.rest}/v2/models/fraud/infer",
        content=header + b"\x00" * 8,
        headers={
            "content-type": "application/octet-stream",
            "inference-header-content-length": str(len(header)),
        },
        timeout=5,
    )

    assert reply.status_code == 400, f"{reply.text}\n{_tail(server.log)}"
    assert "malformed binary tensor request" in reply.json()["error"]


def test_malformed_v1_requests_get_400(server: Server) -> None:
    for body, reason in (({"instances": [[1.0, 2.0]]}, "expected 10 features"), ({"rows": []}, "instances")):
        for verb in ("predict", "explain"):
            reply = httpx.post(f"{server.rest}/v1/models/fraud:{verb}", json=body, timeout=5)
            assert reply.status_code == 400, f"{reply.text}\n{_tail(server.log)}"
            assert reason in reply.json()["error"]


def _grpc_request(
    shape: list[int], datatype: str, raw: bytes, name: str = "features"
) -> pb.ModelInferRequest:
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
def test_malformed_grpc_requests_get_invalid_argument(
    server: Server, request_: pb.ModelInferRequest, reason: str
) -> None:
    with grpc.insecure_channel(server.grpc) as channel, pytest.raises(grpc.RpcError) as caught:
        pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request_, timeout=5)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in (caught.value.details() or "")


async def test_client_maps_a_rejected_request_to_bad_request(server: Server) -> None:
    clients = [
        KServeModelClient(server.rest, "fraud", "rest", 10.0),
        KServeModelClient(server.rest, "fraud", "rest", 10.0, rest_binary=False),
        KServeModelClient(server.grpc, "fraud", "grpc", 10.0),
    ]
    for client in clients:
        with pytest.raises(BadRequestError, match=r"kserve: .*expected 10 features|shape \[N, 10\]"):
            await client.predict(np.zeros((2, 3), dtype=np.float32))
        await client.close()


def test_missing_artifact_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.model",
            "--model-dir",
            str(tmp_path / "absent"),
            "--http-port",
            str(free_port()),
            "--grpc-port",
            str(free_port()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
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
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
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
        with pytest.raises(DependencyUnavailable, match=r"^kserve: ") as caught:
            await client.predict(np.zeros((1, 10), dtype=np.float32))
        assert caught.value.dependency == "kserve" and caught.value.retryable
        await client.close()


def test_port_in_use_exits_non_zero_with_one_clear_line(artifact_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.model",
                "--model-dir",
                str(artifact_dir),
                "--http-port",
                str(port),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"python -m services.model: cannot serve model 'fraud': port {port} is not available: Address already in use"
    ]


def test_repository_load_and_unload_are_refused_and_the_model_keeps_serving(server: Server) -> None:
    name = "fraud"  # the launcher's default model name
    for action in ("unload", "load"):
        answer = httpx.post(f"{server.rest}/v2/repository/models/{name}/{action}", timeout=5)
        assert answer.status_code == 501, answer.text
        assert f"{action}ing models is disabled" in answer.json()["error"]
    with grpc.insecure_channel(server.grpc) as channel, pytest.raises(grpc.RpcError) as caught:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name=name), timeout=5)
    assert "unloading models is disabled" in (caught.value.details() or "")
    assert httpx.get(f"{server.rest}/v2/models/{name}/ready", timeout=5).status_code == 200
