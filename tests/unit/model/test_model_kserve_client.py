"""KServeModelClient against a fake HTTP transport: request shape, response parsing, error classes."""

from __future__ import annotations

import json

import grpc
import httpx
import numpy as np
import pytest

from services.adapters.kserve import wire
from services.adapters.kserve.client import KServeModelClient, _grpc_error
from services.core.errors import BadRequestError, DependencyError, DependencyUnavailable

pytestmark = pytest.mark.unit

BASE = "http://model.test"


def _client(handler: httpx.MockTransport, *, binary: bool = True) -> KServeModelClient:
    http = httpx.AsyncClient(transport=handler)
    return KServeModelClient(BASE, "fraud", "rest", 1.0, rest_binary=binary, http_client=http)


def _binary_reply(scores: np.ndarray) -> httpx.Response:
    raw = scores.astype("<f4").tobytes()
    header = json.dumps(
        {
            "id": "x",
            "model_name": "fraud",
            "model_version": "v7",
            "parameters": {"label_threshold": "0.4"},
            "outputs": [
                {
                    "name": "score",
                    "shape": [len(scores)],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
        }
    ).encode()
    return httpx.Response(200, content=header + raw, headers={wire.HEADER_LENGTH: str(len(header))})


async def test_predict_sends_one_binary_request_and_reads_binary_scores() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _binary_reply(np.array([0.25, 0.75], dtype=np.float32))

    client = _client(httpx.MockTransport(handle))
    features = np.array([[1.0, np.nan], [3.0, 4.0]], dtype=np.float32)

    scores = await client.predict(features)

    np.testing.assert_array_equal(scores, [0.25, 0.75])
    assert len(seen) == 1 and seen[0].url.path == "/v2/models/fraud/infer"
    json_length = int(seen[0].headers[wire.HEADER_LENGTH])
    header = json.loads(seen[0].content[:json_length])
    assert header["inputs"][0]["shape"] == [2, 2]
    np.testing.assert_array_equal(np.frombuffer(seen[0].content[json_length:], "<f4").reshape(2, 2), features)
    await client.close()


async def test_json_mode_sends_null_for_missing_values() -> None:
    bodies: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        outputs = [{"name": "score", "shape": [1], "datatype": "FP32", "data": [0.5]}]
        return httpx.Response(200, json={"id": "x", "model_name": "fraud", "outputs": outputs})

    client = _client(httpx.MockTransport(handle), binary=False)

    assert (await client.predict(np.array([[np.nan, 1.0]], dtype=np.float32))).tolist() == [0.5]
    assert bodies[0]["inputs"][0]["data"] == [[None, 1.0]]


async def test_empty_batch_makes_no_request() -> None:
    client = _client(httpx.MockTransport(lambda request: pytest.fail("no request expected")))

    assert (await client.predict(np.empty((0, 4), dtype=np.float32))).shape == (0,)


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (400, BadRequestError, False),
        (404, BadRequestError, False),
        (429, DependencyUnavailable, True),
        (503, DependencyUnavailable, True),
        (500, DependencyError, False),
    ],
)
async def test_http_status_classes(status: int, error_class: type[DependencyError], retryable: bool) -> None:
    client = _client(httpx.MockTransport(lambda request: httpx.Response(status, json={"error": "nope"})))

    with pytest.raises(error_class, match=rf"kserve: HTTP {status} POST .*: nope") as caught:
        await client.predict(np.zeros((1, 2), dtype=np.float32))
    assert caught.value.dependency == "kserve" and caught.value.retryable is retryable


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_transport_failures_are_unavailable(failure: Exception) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise failure

    client = _client(httpx.MockTransport(handle))

    with pytest.raises(DependencyUnavailable, match="kserve"):
        await client.predict(np.zeros((1, 2), dtype=np.float32))


async def test_wrong_number_of_scores_is_a_bad_response() -> None:
    client = _client(httpx.MockTransport(lambda request: _binary_reply(np.array([0.5], dtype=np.float32))))

    with pytest.raises(DependencyError, match="unexpected response: 1 scores for 2 rows"):
        await client.predict(np.zeros((2, 2), dtype=np.float32))


def _metadata_reply(*inputs: dict) -> httpx.Response:
    return httpx.Response(200, json={"name": "fraud", "platform": "", "inputs": list(inputs), "outputs": []})


def _probe_reply(parameters: dict) -> httpx.Response:
    outputs = [{"name": "score", "shape": [1], "datatype": "FP32", "data": [0.1]}]
    document = {"id": "x", "model_name": "fraud", "model_version": "v7", "parameters": parameters}
    return httpx.Response(200, json={**document, "outputs": outputs})


MATRIX = {"name": "features", "datatype": "FP32", "shape": [-1, 2]}


async def test_info_reads_the_feature_count_from_metadata_and_the_names_from_a_probe() -> None:
    probes: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return _metadata_reply(MATRIX)
        probes.append(json.loads(request.content))
        return _probe_reply({"label_threshold": "0.4", "feature_names": '["a", "b"]'})

    info = await _client(httpx.MockTransport(handle)).info()

    assert (info.name, info.version, info.feature_names, info.threshold) == ("fraud", "v7", ("a", "b"), 0.4)
    assert probes[0]["parameters"] == {"feature_names": True}
    assert probes[0]["inputs"][0]["shape"] == [1, 2]
    assert probes[0]["inputs"][0]["data"] == [[None, None]]


async def test_info_reads_per_feature_inputs_of_an_older_server() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            columns = [{"name": name, "datatype": "FP32", "shape": [-1]} for name in ("a", "b")]
            return _metadata_reply(MATRIX, *columns)
        return _probe_reply({"label_threshold": "0.4"})  # an older server ignores the request parameter

    info = await _client(httpx.MockTransport(handle)).info()

    assert (info.version, info.feature_names, info.threshold) == ("v7", ("a", "b"), 0.4)


@pytest.mark.parametrize(
    ("inputs", "parameters", "reason"),
    [
        ([MATRIX], {"label_threshold": "0.4"}, "reports no feature names"),
        ([MATRIX], {"label_threshold": "0.4", "feature_names": '["a"]'}, "1 feature names for 2 features"),
        ([MATRIX], {"label_threshold": "0.4", "feature_names": "a,b"}, "not a JSON list of names"),
        ([{"name": "pixels", "datatype": "FP32", "shape": [-1, 2]}], {}, r"no 'features' \[-1, F\] input"),
        ([MATRIX], {"feature_names": '["a", "b"]'}, "no label_threshold"),
    ],
)
async def test_info_refuses_a_server_it_cannot_read(inputs: list, parameters: dict, reason: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return _metadata_reply(*inputs) if request.method == "GET" else _probe_reply(parameters)

    with pytest.raises(DependencyError, match=reason):
        await _client(httpx.MockTransport(handle)).info()


async def test_explain_parses_contributions() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/models/fraud:explain"
        assert json.loads(request.content) == {"instances": [[1.0, None]]}
        return httpx.Response(
            200, json={"feature_names": ["a", "b"], "base_value": [-1.0], "contributions": [[0.5, 0.25]]}
        )

    explanations = await _client(httpx.MockTransport(handle)).explain(
        np.array([[1.0, np.nan]], dtype=np.float32)
    )

    assert explanations.feature_names == ("a", "b")
    assert explanations.contributions.dtype == np.float32
    np.testing.assert_array_equal(explanations.contributions, [[0.5, 0.25]])
    np.testing.assert_array_equal(explanations.base_values, [-1.0])


async def test_explain_in_grpc_mode_needs_a_rest_url() -> None:
    client = KServeModelClient("127.0.0.1:1", "fraud", "grpc", 1.0)

    with pytest.raises(ValueError, match="rest_url"):
        await client.explain(np.zeros((1, 2), dtype=np.float32))
    await client.close()


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, BadRequestError),
        (grpc.StatusCode.NOT_FOUND, BadRequestError),
        (grpc.StatusCode.UNAVAILABLE, DependencyUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, DependencyUnavailable),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, DependencyUnavailable),
        (grpc.StatusCode.INTERNAL, DependencyError),
    ],
)
def test_grpc_status_classes(code: grpc.StatusCode, error_class: type[DependencyError]) -> None:
    error = _grpc_error(code, "ModelInfer: details")

    assert type(error) is error_class
    assert str(error) == f"kserve: {code.name} ModelInfer: details"
