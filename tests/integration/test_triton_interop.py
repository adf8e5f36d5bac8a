"""A generic V2 client (tritonclient, HTTP and gRPC) works from the metadata alone.

The client reads server and model metadata, sends one tensor per listed input (datatype and
shape as listed, -1 replaced by a batch size, random values), and must get back the listed
outputs with the listed datatypes and shapes. Every extension the server advertises must
answer, and readiness must say yes. tritonclient runs in a child process (triton_probe.py):
its gRPC stubs and KServe's cannot share one protobuf pool.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.model_server_fixtures import Server, _tail

ROOT = Path(__file__).resolve().parents[2]
MODEL = "fraud"
PROTOCOLS = ("http", "grpc")
REFUSED = {"http": "501|", "grpc": "StatusCode.INVALID_ARGUMENT|"}


@pytest.fixture(scope="module")
def reports(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    report_path = tmp_path_factory.mktemp("interop") / "reports.json"
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.triton_probe",
            "interop",
            server.rest.removeprefix("http://"),
            server.grpc,
            MODEL,
            str(report_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, f"{probe.stderr[-3000:]}\nserver log:\n{_tail(server.log)}"
    loaded: dict[str, dict[str, Any]] = json.loads(report_path.read_text())
    return loaded


def _shape(shape: list[Any]) -> list[int]:
    return [int(size) for size in shape]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_and_model_report_ready(reports: dict[str, dict[str, Any]], protocol: str) -> None:
    report = reports[protocol]

    assert (report["live"], report["ready"], report["model_ready"]) == (True, True, True)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_built_from_the_metadata_gets_the_listed_outputs(
    reports: dict[str, dict[str, Any]], protocol: str
) -> None:
    metadata = reports[protocol]["model_metadata"]
    listed = [(tensor["name"], tensor["datatype"], _shape(tensor["shape"])) for tensor in metadata["outputs"]]

    assert metadata["name"] == MODEL and metadata["inputs"] and listed
    for inference in reports[protocol]["inferences"]:
        batch = inference["batch"]
        assert "error" not in inference, f"batch {batch}: {inference.get('error')}"
        expected = [
            (name, datatype, [batch if size == -1 else size for size in shape])
            for name, datatype, shape in listed
        ]
        answered = [(output["name"], output["datatype"], output["shape"]) for output in inference["outputs"]]
        assert answered == expected, f"batch {batch}"
        assert [output["array_shape"] for output in inference["outputs"]] == [
            shape for _, _, shape in expected
        ]


def test_both_protocols_publish_the_same_metadata(reports: dict[str, dict[str, Any]]) -> None:
    def tensors(metadata: dict[str, Any], kind: str) -> list[tuple[str, str, list[int]]]:
        return [(tensor["name"], tensor["datatype"], _shape(tensor["shape"])) for tensor in metadata[kind]]

    http, grpc = reports["http"], reports["grpc"]
    for kind in ("inputs", "outputs"):
        assert tensors(http["model_metadata"], kind) == tensors(grpc["model_metadata"], kind), kind
    assert http["model_metadata"]["versions"] == grpc["model_metadata"]["versions"]
    assert http["model_metadata"]["platform"] == grpc["model_metadata"]["platform"]
    assert http["server_metadata"]["extensions"] == grpc["server_metadata"]["extensions"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_advertised_extension_answers(reports: dict[str, dict[str, Any]], protocol: str) -> None:
    report = reports[protocol]
    version = report["model_metadata"]["versions"][0]

    assert set(report["extensions"]) == set(report["server_metadata"]["extensions"])
    for name, answer in report["extensions"].items():
        assert "error" not in answer, f"{name}: {answer.get('error')}"
    repository = report["extensions"]["model_repository_extension"]
    assert [(entry["name"], entry["version"], entry["state"]) for entry in repository["index"]] == [
        (MODEL, version, "READY")
    ]
    # Read-only by default: load and unload are refused, and the model keeps serving.
    for action in ("unload", "load"):
        assert repository[action].startswith(REFUSED[protocol]), repository[action]
        assert f"{action}ing models is disabled" in repository[action]
    assert repository["model_ready_after"] is True
