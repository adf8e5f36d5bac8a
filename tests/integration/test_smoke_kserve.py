"""Smoke test e: a minimal kserve.Model served by kserve.ModelServer in a subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def rowsum_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    http_port, grpc_port = _free_port(), _free_port()
    log_path = tmp_path_factory.mktemp("kserve") / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.kserve_sum_model",
                "--http_port",
                str(http_port),
                "--grpc_port",
                str(grpc_port),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"model server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail(f"model server not ready in 60 s: {log_path.read_text()[-2000:]}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_e_kserve_v2_rest_inference(rowsum_server: str) -> None:
    ready = httpx.get(f"{rowsum_server}/v2/health/ready", timeout=5)
    assert ready.status_code == 200
    model_ready = httpx.get(f"{rowsum_server}/v2/models/rowsum/ready", timeout=5)
    assert model_ready.status_code == 200
    request = {
        "id": "req-1",
        "inputs": [{"name": "rows", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6.5]}],
    }
    reply = httpx.post(f"{rowsum_server}/v2/models/rowsum/infer", json=request, timeout=10)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model_name"] == "rowsum"
    assert body["id"] == "req-1"
    assert body["outputs"][0]["name"] == "sum"
    assert body["outputs"][0]["shape"] == [2, 1]
    assert body["outputs"][0]["data"] == [6.0, 15.5]
