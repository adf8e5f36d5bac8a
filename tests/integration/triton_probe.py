"""Ask the model server through tritonclient (HTTP and gRPC), an independent open-inference client.

Runs in its own process: tritonclient's and KServe's generated gRPC modules both register the
`inference.*` protobuf messages, and one process cannot load both. Usage:
``python -m tests.integration.triton_probe HOST:HTTP_PORT HOST:GRPC_PORT MODEL rows.npy out.npz``
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

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


def main(argv: list[str]) -> int:
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
