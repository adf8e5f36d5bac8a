"""Open inference protocol messages for a feature matrix: V2 REST (binary tensor extension), V2 gRPC.

No I/O here: client.py sends what these functions build and hands back what they parse.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve.tensors import FEATURES_INPUT, SCORE_OUTPUT, THRESHOLD_PARAMETER
from services.core.errors import DependencyError
from services.core.ports import Explanations, FloatMatrix

DEPENDENCY = "kserve"
HEADER_LENGTH = "inference-header-content-length"
_LITTLE_ENDIAN_FP32 = np.dtype("<f4")


@dataclass(frozen=True)
class InferResult:
    scores: npt.NDArray[np.float64]
    model_version: str
    threshold: float | None


def bad_response(message: str) -> DependencyError:
    # A reply we cannot read is not fixed by retrying the same request.
    return DependencyError(DEPENDENCY, f"unexpected response: {message}", retryable=False)


def rest_infer_body(features: FloatMatrix, request_id: str, *, binary: bool) -> tuple[bytes, dict[str, str]]:
    """The V2 REST request body and headers; binary puts the raw FP32 bytes after the JSON header."""
    rows, columns = features.shape
    tensor: dict[str, Any] = {"name": FEATURES_INPUT, "shape": [rows, columns], "datatype": "FP32"}
    output: dict[str, Any] = {"name": SCORE_OUTPUT}
    if not binary:
        tensor["data"] = _json_rows(features)
        body = json.dumps({"id": request_id, "inputs": [tensor], "outputs": [output]}).encode()
        return body, {"content-type": "application/json"}
    raw = features.astype(_LITTLE_ENDIAN_FP32, copy=False).tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    output["parameters"] = {"binary_data": True}
    header = json.dumps({"id": request_id, "inputs": [tensor], "outputs": [output]}).encode()
    return header + raw, {"content-type": "application/octet-stream", HEADER_LENGTH: str(len(header))}


def parse_rest_infer(body: bytes, headers: Any, rows: int) -> InferResult:
    """Scores from a V2 REST response, JSON or binary."""
    json_length = int(headers.get(HEADER_LENGTH, len(body)))
    try:
        document = json.loads(body[:json_length])
        outputs = document["outputs"]
    except (ValueError, KeyError, TypeError) as error:
        raise bad_response(f"not a V2 inference response ({error})") from None
    offset = json_length
    for output in outputs:
        size = int((output.get("parameters") or {}).get("binary_data_size", 0))
        if output.get("name") == SCORE_OUTPUT:
            if size:
                scores = np.frombuffer(body, dtype=_LITTLE_ENDIAN_FP32, count=size // 4, offset=offset)
            else:
                scores = np.asarray(output.get("data", []), dtype=np.float32)
            threshold = (document.get("parameters") or {}).get(THRESHOLD_PARAMETER)
            return _result(scores, rows, document.get("model_version"), threshold)
        offset += size
    raise bad_response(f"no '{SCORE_OUTPUT}' output")


def grpc_infer_request(model_name: str, features: FloatMatrix, request_id: str) -> Any:
    rows, columns = features.shape
    return pb.ModelInferRequest(
        model_name=model_name,
        id=request_id,
        inputs=[
            pb.ModelInferRequest.InferInputTensor(name=FEATURES_INPUT, datatype="FP32", shape=[rows, columns])
        ],
        outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name=SCORE_OUTPUT)],
        raw_input_contents=[features.astype(_LITTLE_ENDIAN_FP32, copy=False).tobytes()],
    )


def parse_grpc_infer(response: Any, rows: int) -> InferResult:
    for index, output in enumerate(response.outputs):
        if output.name != SCORE_OUTPUT:
            continue
        if index < len(response.raw_output_contents):
            scores = np.frombuffer(response.raw_output_contents[index], dtype=_LITTLE_ENDIAN_FP32)
        else:
            scores = np.asarray(output.contents.fp32_contents, dtype=np.float32)
        parameter = response.parameters.get(THRESHOLD_PARAMETER)
        threshold = parameter.string_param if parameter is not None else None
        return _result(scores, rows, response.model_version, threshold)
    raise bad_response(f"no '{SCORE_OUTPUT}' output")


def feature_names_from_metadata(inputs: list[tuple[str, list[int]]]) -> tuple[str, ...]:
    """Feature names from V2 model metadata inputs: every input but the [N, F] matrix, in order."""
    names = tuple(name for name, _ in inputs if name != FEATURES_INPUT)
    matrix = dict(inputs).get(FEATURES_INPUT)
    if not names or (matrix is not None and matrix[-1] != len(names)):
        raise bad_response(f"model metadata does not list the feature inputs: {inputs}")
    return names


def explain_body(features: FloatMatrix) -> bytes:
    return json.dumps({"instances": _json_rows(features)}).encode()


def parse_explanation(body: bytes, rows: int, columns: int) -> Explanations:
    try:
        document = json.loads(body)
        contributions = np.asarray(document["contributions"], dtype=np.float64)
        base_values = np.asarray(document["base_value"], dtype=np.float64)
        names = tuple(str(name) for name in document["feature_names"])
    except (ValueError, KeyError, TypeError) as error:
        raise bad_response(f"not an explanation ({error})") from None
    if contributions.shape != (rows, columns) or base_values.shape != (rows,) or len(names) != columns:
        raise bad_response(
            f"explanation shapes {contributions.shape}/{base_values.shape} do not match {rows} rows of {columns}"
        )
    return Explanations(
        contributions=contributions.astype(np.float32), base_values=base_values, feature_names=names
    )


def error_reason(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body[:300].decode(errors="replace")


def _json_rows(features: FloatMatrix) -> list[list[float | None]]:
    # JSON has no NaN; null is the protocol's "missing", decoded back to NaN by the server.
    return [[None if math.isnan(value) else value for value in row] for row in features.tolist()]


def _result(scores: npt.NDArray[Any], rows: int, version: Any, threshold: Any) -> InferResult:
    if scores.shape != (rows,):
        raise bad_response(f"{scores.shape[0]} scores for {rows} rows")
    try:
        parsed_threshold = float(threshold) if threshold not in (None, "") else None
    except (TypeError, ValueError):
        parsed_threshold = None
    return InferResult(
        scores=scores.astype(np.float64), model_version=str(version or ""), threshold=parsed_threshold
    )
