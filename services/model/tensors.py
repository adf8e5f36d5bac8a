"""Open-inference-protocol tensors <-> feature matrices, with 400-worthy errors (InvalidInput).

Inputs: either one "features" tensor [N, F] (the published form) or one tensor per feature name
([N] or [N, 1]; accepted, documented, not in the metadata).
Outputs: "score" FP32 [N] (probability) and "label" INT32 [N].
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from services.adapters.kserve.sdk import InferInput, InferOutput, InferRequest, InferResponse, InvalidInput
from services.adapters.kserve.tensors import (
    COLUMN_DATATYPES,
    FEATURE_NAMES_PARAMETER,
    FEATURES_INPUT,
    LABEL_OUTPUT,
    MATRIX_DATATYPES,
    OUTPUT_NAMES,
    SCORE_OUTPUT,
    THRESHOLD_PARAMETER,
)
from services.model.predictor import Scores


def features_from_request(request: InferRequest, feature_names: Sequence[str]) -> npt.NDArray[Any]:
    """The [N, F] matrix of a V2 request; raises InvalidInput naming what is wrong."""
    inputs = list(request.inputs or [])
    names = [tensor.name for tensor in inputs]
    if not inputs:
        raise InvalidInput(
            f"no inputs: send '{FEATURES_INPUT}' [N, {len(feature_names)}] or one input per feature"
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInput(f"duplicate inputs: {duplicates}")
    if FEATURES_INPUT in names:
        if len(inputs) > 1:
            extra = [name for name in names if name != FEATURES_INPUT]
            raise InvalidInput(
                f"send either '{FEATURES_INPUT}' or one input per feature, not both (also got {extra})"
            )
        return _matrix(inputs[0], len(feature_names))
    unknown = [name for name in names if name not in feature_names]
    if unknown:
        raise InvalidInput(
            f"unknown inputs {unknown}; expected '{FEATURES_INPUT}' or the feature names {list(feature_names)}"
        )
    missing = [name for name in feature_names if name not in names]
    if missing:
        raise InvalidInput(f"missing feature inputs {missing}")
    by_name = dict(zip(names, inputs, strict=True))
    columns = [_column(by_name[name]) for name in feature_names]
    lengths = {column.shape[0] for column in columns}
    if len(lengths) > 1:
        raise InvalidInput(f"feature inputs have different lengths {sorted(lengths)}")
    return np.column_stack(columns)


def features_from_instances(payload: object, feature_count: int) -> npt.NDArray[np.float64]:
    """The [N, F] matrix of a V1 body {"instances": [[...], ...]}; null means missing."""
    if isinstance(payload, bytes | str):  # KServe passes the raw body when it is not typed as JSON
        try:
            payload = json.loads(payload)
        except ValueError:
            raise InvalidInput("the body is not JSON") from None
    if not isinstance(payload, dict) or "instances" not in payload:
        raise InvalidInput('expected a JSON object {"instances": [[...features...], ...]}')
    instances = payload["instances"]
    if isinstance(instances, np.ndarray):  # in-process callers pass arrays
        return np.asarray(instances, dtype=np.float64)
    if not isinstance(instances, list) or not all(isinstance(row, list) for row in instances):
        raise InvalidInput(f'"instances" must be a list of rows, each a list of {feature_count} numbers')
    if not instances:
        return np.empty((0, feature_count))
    try:
        return np.asarray(instances, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(
            f'"instances" must be rows of {feature_count} numbers (null for a missing value)'
        ) from None


def feature_names_requested(request: InferRequest) -> bool:
    """Whether the request sets the parameter "feature_names" to true (REST JSON or gRPC)."""
    parameters = request.parameters
    if not parameters or FEATURE_NAMES_PARAMETER not in parameters:
        return False
    value: Any = parameters[FEATURE_NAMES_PARAMETER]
    if hasattr(value, "WhichOneof"):  # a gRPC InferParameter
        choice = value.WhichOneof("parameter_choice")
        value = getattr(value, choice) if choice else None
    return value is True or (isinstance(value, str) and value.lower() == "true")


def score_response(
    request: InferRequest,
    scores: Scores,
    *,
    model_name: str,
    version: str,
    threshold: float,
    feature_names: Sequence[str] | None = None,
) -> InferResponse:
    """The V2 response with the requested outputs (default: score and label).

    feature_names: returned as a JSON list in the response parameter "feature_names" when given.
    """
    tensors = {
        SCORE_OUTPUT: scores.probabilities.astype(np.float32),
        LABEL_OUTPUT: scores.labels.astype(np.int32),
    }
    datatypes = {SCORE_OUTPUT: "FP32", LABEL_OUTPUT: "INT32"}
    requested = [output.name for output in request.request_outputs or []]
    unknown = [name for name in requested if name not in tensors]
    if unknown:
        raise InvalidInput(f"unknown outputs {unknown}; this model returns {list(OUTPUT_NAMES)}")
    outputs = []
    for name in requested or OUTPUT_NAMES:
        output = InferOutput(name=name, shape=[len(tensors[name])], datatype=datatypes[name])
        # Set through set_data_from_numpy: KServe's to_grpc cannot take a raw ndarray as data.
        output.set_data_from_numpy(tensors[name], binary_data=bool(request.use_binary_outputs))
        outputs.append(output)
    parameters = {THRESHOLD_PARAMETER: repr(threshold)}
    if feature_names is not None:
        parameters[FEATURE_NAMES_PARAMETER] = json.dumps(list(feature_names))
    return InferResponse(
        response_id=request.id or uuid.uuid4().hex,
        model_name=model_name,
        model_version=version,
        infer_outputs=outputs,
        parameters=parameters,
        use_binary_outputs=request.use_binary_outputs,
        requested_outputs=request.request_outputs,
    )


def _numbers(tensor: InferInput, allowed: Sequence[str]) -> npt.NDArray[Any]:
    if tensor.datatype not in allowed:
        raise InvalidInput(
            f"input '{tensor.name}' has datatype {tensor.datatype}; expected one of {list(allowed)}"
        )
    shape = list(tensor.shape or [])
    if not all(isinstance(size, int) and size >= 0 for size in shape):
        raise InvalidInput(f"input '{tensor.name}' has an invalid shape {shape}")
    try:
        return np.asarray(tensor.as_numpy())
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"input '{tensor.name}': data does not match shape {shape} ({error})") from None


def _matrix(tensor: InferInput, feature_count: int) -> npt.NDArray[Any]:
    values = _numbers(tensor, MATRIX_DATATYPES)
    if values.ndim != 2 or values.shape[1] != feature_count:
        raise InvalidInput(
            f"input '{FEATURES_INPUT}' must have shape [N, {feature_count}], got {list(values.shape)}"
        )
    return values


def _column(tensor: InferInput) -> npt.NDArray[Any]:
    values = _numbers(tensor, COLUMN_DATATYPES)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise InvalidInput(f"input '{tensor.name}' must have shape [N] or [N, 1], got {list(values.shape)}")
    return values
