"""Ask the model server through tritonclient (HTTP and gRPC), an independent open-inference client.

Runs in its own process: tritonclient's and KServe's generated gRPC modules both register the
`inference.*` protobuf messages, and one process cannot load both. Usage:
``python -m tests.integration.triton_probe HOST:HTTP_PORT HOST:GRPC_PORT MODEL rows.npy out.npz``
(answers for given rows), or
``python -m tests.integration.triton_probe interop HOST:HTTP_PORT HOST:GRPC_PORT MODEL out.json``
(a generic client that knows nothing but what the server's metadata says; see interop()).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException


def _ask(module: ModuleType, url: str, model: str, rows: np.ndarray) -> dict[str, np.ndarray]:
    client = module.InferenceServerClient(url=url)
    try:
        tensor = module.InferInput("features", list(rows.shape), "FP32")
        tensor.set_data_from_numpy(rows)
        outputs = [module.InferRequestedOutput("score"), module.InferRequestedOutput("label")]
        result = client.infer(model, [tensor], outputs=outputs)
        wrong = module.InferInput("features", [1, 3], "FP32")
        wrong.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
        try:
            client.infer(model, [wrong])
            rejection = "accepted"
        except InferenceServerException as error:
            rejection = f"{error.status()}|{error.message()}"
        return {
            "ready": np.array([client.is_server_ready() and client.is_model_ready(model)]),
            "score": result.as_numpy("score"),
            "label": result.as_numpy("label"),
            "rejection": np.array([rejection]),
        }
    finally:
        client.close()


NUMPY_TYPES = {
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
}
BATCH_SIZES = (1, 7)


def _as_json(module: ModuleType, call: Callable[..., Any], *args: Any) -> Any:
    # tritonclient.grpc answers protobuf messages unless asked for JSON (int64 then comes as strings).
    return call(*args, as_json=True) if module is triton_grpc else call(*args)


def _tensor_shape(shape: list[Any]) -> list[int]:
    return [int(size) for size in shape]


def _random_values(datatype: str, shape: list[int], rng: np.random.Generator) -> np.ndarray:
    if datatype == "BOOL":
        return rng.integers(0, 2, size=shape).astype(bool)
    if datatype not in NUMPY_TYPES:
        raise ValueError(f"no random values for datatype {datatype}")
    numpy_type = NUMPY_TYPES[datatype]
    if np.issubdtype(numpy_type, np.floating):
        return rng.uniform(-3.0, 3.0, size=shape).astype(numpy_type)
    return rng.integers(0, 10, size=shape).astype(numpy_type)


def _refusal(call: Callable[[], Any]) -> str:
    try:
        call()
    except InferenceServerException as error:
        return f"{error.status()}|{error.message()}"
    return "accepted"


def _repository(module: ModuleType, client: Any, model: str) -> dict[str, Any]:
    index = _as_json(module, client.get_model_repository_index)
    return {
        "index": index["models"] if isinstance(index, dict) else index,
        "unload": _refusal(lambda: client.unload_model(model)),
        "load": _refusal(lambda: client.load_model(model)),
        "model_ready_after": client.is_model_ready(model),
    }


# How a generic client exercises each extension a server may advertise.
EXTENSION_PROBES: dict[str, Callable[[ModuleType, Any, str], dict[str, Any]]] = {
    "model_repository_extension": _repository,  # KServe's name
    "model_repository": _repository,  # Triton's name
}


def _probe_extension(name: str, module: ModuleType, client: Any, model: str) -> dict[str, Any]:
    if name not in EXTENSION_PROBES:
        return {"error": "no probe for this extension"}
    try:
        return EXTENSION_PROBES[name](module, client, model)
    except InferenceServerException as error:
        return {"error": f"{error.status()}|{error.message()}"}


def interop(module: ModuleType, url: str, model: str) -> dict[str, Any]:
    """Everything a generic V2 client learns and gets, using nothing but the server's metadata."""
    client = module.InferenceServerClient(url=url)
    try:
        report: dict[str, Any] = {
            "live": client.is_server_live(),
            "ready": client.is_server_ready(),
            "model_ready": client.is_model_ready(model),
        }
        server = _as_json(module, client.get_server_metadata)
        metadata = _as_json(module, client.get_model_metadata, model)
        report["server_metadata"], report["model_metadata"] = server, metadata
        rng = np.random.default_rng(2024)
        report["inferences"] = []
        for batch in BATCH_SIZES:
            inputs = []
            for tensor in metadata["inputs"]:
                shape = [batch if size == -1 else size for size in _tensor_shape(tensor["shape"])]
                infer_input = module.InferInput(tensor["name"], shape, tensor["datatype"])
                infer_input.set_data_from_numpy(_random_values(tensor["datatype"], shape, rng))
                inputs.append(infer_input)
            try:
                result = client.infer(model, inputs)
            except InferenceServerException as error:
                report["inferences"].append({"batch": batch, "error": f"{error.status()}|{error.message()}"})
                continue
            response = _as_json(module, result.get_response)
            report["inferences"].append(
                {
                    "batch": batch,
                    "outputs": [
                        {
                            "name": output["name"],
                            "datatype": output["datatype"],
                            "shape": _tensor_shape(output["shape"]),
                            "array_shape": list(result.as_numpy(output["name"]).shape),
                            "array_dtype": str(result.as_numpy(output["name"]).dtype),
                        }
                        for output in response["outputs"]
                    ],
                }
            )
        report["extensions"] = {
            name: _probe_extension(name, module, client, model) for name in server["extensions"]
        }
        return report
    finally:
        client.close()


def main(argv: list[str]) -> int:
    if argv[0] == "interop":
        http_url, grpc_url, model, report_path = argv[1:]
        reports = {
            "http": interop(triton_http, http_url, model),
            "grpc": interop(triton_grpc, grpc_url, model),
        }
        Path(report_path).write_text(json.dumps(reports, indent=1, default=str))
        return 0
    http_url, grpc_url, model, rows_path, out_path = argv
    rows = np.load(rows_path)
    answers = {
        f"{kind}_{key}": value
        for kind, module, url in (("http", triton_http, http_url), ("grpc", triton_grpc, grpc_url))
        for key, value in _ask(module, url, model, rows).items()
    }
    np.savez(Path(out_path), **answers)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
