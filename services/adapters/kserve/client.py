"""ModelPort over a KServe model server: V2 inference over REST (httpx) or gRPC, V1 explain over REST.

One request per micro-batch. Failures become DependencyError subclasses naming "kserve":
unreachable, timed out, 429/503/UNAVAILABLE -> DependencyUnavailable (retry);
4xx / INVALID_ARGUMENT -> BadRequestError (do not retry).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

import grpc
import httpx
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from services.adapters.kserve import wire
from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve.sdk import grpc_predict_v2_pb2_grpc as pb_grpc
from services.adapters.kserve.tensors import FEATURE_NAMES_PARAMETER, FEATURES_INPUT
from services.core.errors import BadRequestError, DependencyError, DependencyUnavailable
from services.core.ports import Explanations, FloatMatrix, ModelInfo

Protocol = Literal["rest", "grpc"]
DEPENDENCY = wire.DEPENDENCY
_RETRYABLE_HTTP = {408, 425, 429, 502, 503, 504}
_RETRYABLE_GRPC = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
}
_CALLER_FAULT_GRPC = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNIMPLEMENTED,
}
_GRPC_OPTIONS = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]


class KServeClientSettings(BaseModel):
    """Where the model server is; built by the owning service's settings."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    target: str = Field(default="http://127.0.0.1:8085", description="REST base URL, or host:port for gRPC")
    model_name: str = "fraud"
    protocol: Protocol = "rest"
    timeout_s: float = Field(default=2.0, gt=0)
    rest_url: str | None = Field(default=None, description="REST base URL for explain() in gRPC mode")
    rest_binary: bool = Field(default=True, description="V2 binary tensor extension instead of JSON data")


class KServeModelClient:
    """ModelPort over KServe.

    Args:
        target: REST base URL ("http://host:8085") for protocol "rest", "host:port" for "grpc".
        model_name: the served model's name.
        protocol: how predict() and info() travel.
        timeout_s: per request.
        rest_url: REST base URL used by explain() (V1) when protocol is "grpc"; defaults to target for REST.
        rest_binary: send and receive V2 REST tensors as raw bytes (the binary tensor extension).
        http_client: an httpx.AsyncClient to use instead of a new one (closed by close() either way).
    """

    def __init__(
        self,
        target: str,
        model_name: str = "fraud",
        protocol: Protocol = "rest",
        timeout_s: float = 2.0,
        *,
        rest_url: str | None = None,
        rest_binary: bool = True,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if protocol not in ("rest", "grpc"):
            raise ValueError(f"protocol must be 'rest' or 'grpc', not {protocol!r}")
        self.model_name = model_name
        self.protocol = protocol
        self.timeout_s = timeout_s
        self.rest_binary = rest_binary
        self._grpc_target = target if protocol == "grpc" else None
        self._rest_url = (rest_url or (target if protocol == "rest" else None) or "").rstrip("/") or None
        self._http = http_client or (httpx.AsyncClient(timeout=timeout_s) if self._rest_url else None)
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None

    @classmethod
    def from_settings(cls, settings: KServeClientSettings) -> KServeModelClient:
        return cls(
            settings.target,
            settings.model_name,
            settings.protocol,
            settings.timeout_s,
            rest_url=settings.rest_url,
            rest_binary=settings.rest_binary,
        )

    async def info(self) -> ModelInfo:
        """The feature count from model metadata (`features` [-1, F]); feature names, version and
        label threshold from a one-row probe that asks for the feature names.

        A server that lists one input per feature in its metadata (older versions) is read too.
        """
        count, listed = await self._metadata_features()
        probe, sent = await self._probe(count)
        names = sent if sent is not None else listed
        if not names:
            raise wire.bad_response("the model server reports no feature names")
        if len(names) != count:
            raise wire.bad_response(f"{len(names)} feature names for {count} features: {list(names)}")
        if probe.threshold is None:
            raise wire.bad_response("the inference response has no label_threshold parameter")
        return ModelInfo(
            name=self.model_name, version=probe.model_version, feature_names=names, threshold=probe.threshold
        )

    async def predict(self, features: FloatMatrix) -> npt.NDArray[np.float64]:
        """Probabilities per row in one request; an empty batch returns an empty array without a call."""
        matrix = _as_matrix(features)
        if matrix.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        return (await self._infer(matrix)).scores

    async def explain(self, features: FloatMatrix) -> Explanations:
        """Exact TreeSHAP attributions from the V1 :explain endpoint (REST in either protocol)."""
        matrix = _as_matrix(features)
        url = f"{self._require_rest()}/v1/models/{self.model_name}:explain"
        reply = await self._post(url, wire.explain_body(matrix), {"content-type": "application/json"})
        return wire.parse_explanation(reply.content, *matrix.shape)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._channel is not None:
            await self._channel.close()
            self._channel, self._stub = None, None

    async def _infer(self, matrix: npt.NDArray[np.float32]) -> wire.InferResult:
        request_id = uuid.uuid4().hex
        if self.protocol == "grpc":
            request = wire.grpc_infer_request(self.model_name, matrix, request_id)
            response = await self._grpc_call("ModelInfer", request)
            return wire.parse_grpc_infer(response, matrix.shape[0])
        body, headers = wire.rest_infer_body(matrix, request_id, binary=self.rest_binary)
        url = f"{self._require_rest()}/v2/models/{self.model_name}/infer"
        reply = await self._post(url, body, headers)
        return wire.parse_rest_infer(reply.content, reply.headers, matrix.shape[0])

    async def _probe(self, count: int) -> tuple[wire.InferResult, tuple[str, ...] | None]:
        """One all-missing row, asking for the feature names (None when the server sends none)."""
        matrix = np.full((1, count), np.nan, dtype=np.float32)
        request_id = uuid.uuid4().hex
        if self.protocol == "grpc":
            request = wire.grpc_infer_request(self.model_name, matrix, request_id)
            request.parameters[FEATURE_NAMES_PARAMETER].bool_param = True
            response = await self._grpc_call("ModelInfer", request)
            parameter = response.parameters.get(FEATURE_NAMES_PARAMETER)
            sent = parameter.string_param if parameter is not None else None
            return wire.parse_grpc_infer(response, 1), _feature_names(sent)
        body, headers = wire.rest_infer_body(matrix, request_id, binary=False)
        document = json.loads(body)
        document["parameters"] = {FEATURE_NAMES_PARAMETER: True}
        url = f"{self._require_rest()}/v2/models/{self.model_name}/infer"
        reply = await self._post(url, json.dumps(document).encode(), headers)
        result = wire.parse_rest_infer(reply.content, reply.headers, 1)
        header = reply.content[: int(reply.headers.get(wire.HEADER_LENGTH, len(reply.content)))]
        parameters = json.loads(header).get("parameters") or {}
        return result, _feature_names(parameters.get(FEATURE_NAMES_PARAMETER))

    async def _metadata_features(self) -> tuple[int, tuple[str, ...]]:
        """F from the `features` [-1, F] input, and any per-feature inputs an older server lists."""
        if self.protocol == "grpc":
            metadata = await self._grpc_call("ModelMetadata", pb.ModelMetadataRequest(name=self.model_name))
            inputs = [(tensor.name, list(tensor.shape)) for tensor in metadata.inputs]
        else:
            reply = await self._send("GET", f"{self._require_rest()}/v2/models/{self.model_name}")
            try:
                inputs = [(tensor["name"], list(tensor["shape"])) for tensor in reply.json()["inputs"]]
            except (ValueError, KeyError, TypeError) as error:
                raise wire.bad_response(f"not V2 model metadata ({error})") from None
        matrix = dict(inputs).get(FEATURES_INPUT)
        if len(inputs) > 1:
            listed = wire.feature_names_from_metadata(inputs)
            return len(listed), listed
        if matrix is None or len(matrix) != 2 or matrix[-1] < 1:
            raise wire.bad_response(f"model metadata has no '{FEATURES_INPUT}' [-1, F] input: {inputs}")
        return int(matrix[-1]), ()

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self._send("POST", url, content=body, headers=headers)

    async def _send(self, method: str, url: str, **options: Any) -> httpx.Response:
        assert self._http is not None
        try:
            reply = await self._http.request(method, url, **options)
        except httpx.TimeoutException:
            raise DependencyUnavailable(
                DEPENDENCY, f"{method} {url} timed out after {self.timeout_s}s"
            ) from None
        except httpx.TransportError as error:
            raise DependencyUnavailable(DEPENDENCY, f"cannot reach {url}: {error!r}") from None
        if reply.is_success:
            return reply
        raise _http_error(reply.status_code, f"{method} {url}: {wire.error_reason(reply.content)}")

    async def _grpc_call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            assert self._grpc_target is not None
            self._channel = grpc.aio.insecure_channel(self._grpc_target, options=_GRPC_OPTIONS)
            self._stub = pb_grpc.GRPCInferenceServiceStub(self._channel)
        try:
            return await getattr(self._stub, method)(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as error:
            raise _grpc_error(error.code(), f"{method} at {self._grpc_target}: {error.details()}") from None

    def _require_rest(self) -> str:
        if self._rest_url is None:
            raise ValueError("this client has no REST URL: pass rest_url= to use explain() with gRPC")
        return self._rest_url


def _feature_names(sent: Any) -> tuple[str, ...] | None:
    """The feature names of a probe response's parameter (a JSON list), None when absent."""
    if sent is None:
        return None
    try:
        names = json.loads(sent)
    except (TypeError, ValueError):
        names = None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise wire.bad_response(
            f"the {FEATURE_NAMES_PARAMETER} parameter is not a JSON list of names: {sent!r}"
        )
    return tuple(names)


def _as_matrix(features: FloatMatrix) -> npt.NDArray[np.float32]:
    matrix = np.ascontiguousarray(features, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"features must be a [rows, features] matrix, got shape {matrix.shape}")
    return matrix


def _http_error(status: int, message: str) -> DependencyError:
    if status in _RETRYABLE_HTTP:
        return DependencyUnavailable(DEPENDENCY, f"HTTP {status} {message}")
    if 400 <= status < 500:
        return BadRequestError(DEPENDENCY, f"HTTP {status} {message}")
    return DependencyError(DEPENDENCY, f"HTTP {status} {message}", retryable=False)


def _grpc_error(code: grpc.StatusCode, message: str) -> DependencyError:
    if code in _RETRYABLE_GRPC:
        return DependencyUnavailable(DEPENDENCY, f"{code.name} {message}")
    if code in _CALLER_FAULT_GRPC:
        return BadRequestError(DEPENDENCY, f"{code.name} {message}")
    return DependencyError(DEPENDENCY, f"{code.name} {message}", retryable=False)
