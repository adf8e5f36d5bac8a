"""What the model server publishes describes exactly what it serves.

Model metadata lists the inputs of one valid request (a V2 client sends every listed input),
outputs as they come back, and server metadata only extensions that answer.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from services.adapters.kserve.sdk import InferInput, InferRequest, InferResponse, InvalidInput
from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.model.artifact import ModelArtifact
from services.model.repository import RepositoryIndexRequest, RepositoryIndexResponse
from services.model.server import ArtifactDataPlane, FraudModel

pytestmark = pytest.mark.unit

NUMPY = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "INT64": np.int64}
BATCH = 3


@pytest.fixture
def model(small_artifact: ModelArtifact) -> FraudModel:
    fraud = FraudModel("fraud", artifact=small_artifact)
    fraud.load()
    return fraud


@pytest.fixture
def plane(model: FraudModel) -> ArtifactDataPlane:
    from kserve.model_repository import ModelRepository

    repository = ModelRepository()
    repository.update(model)
    return ArtifactDataPlane(model_registry=repository)


def _concrete(shape: list[int]) -> list[int]:
    return [BATCH if size == -1 else size for size in shape]


def _request_from(inputs: list[dict[str, Any]], **options: Any) -> InferRequest:
    rng = np.random.default_rng(5)
    tensors = []
    for tensor in inputs:
        shape = _concrete(tensor["shape"])
        values = rng.uniform(-3, 3, size=shape).astype(NUMPY[tensor["datatype"]])
        tensors.append(InferInput(tensor["name"], shape, tensor["datatype"], data=values.tolist()))
    return InferRequest(model_name="fraud", infer_inputs=tensors, request_id="r-1", **options)


async def test_model_metadata_lists_exactly_one_request_shape(plane: ArtifactDataPlane) -> None:
    metadata = await plane.model_metadata("fraud")
    feature_count = len(plane.get_model_from_registry("fraud").artifact.feature_names)

    assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, feature_count]}]
    assert metadata["outputs"] == [
        {"name": "score", "datatype": "FP32", "shape": [-1]},
        {"name": "label", "datatype": "INT32", "shape": [-1]},
    ]
    assert (metadata["platform"], metadata["versions"]) == ("lightgbm", ["synthetic-11-2000"])


async def test_a_request_with_every_listed_input_gets_every_listed_output(
    plane: ArtifactDataPlane, model: FraudModel
) -> None:
    metadata = await plane.model_metadata("fraud")

    response = await model.predict(_request_from(metadata["inputs"]))

    assert isinstance(response, InferResponse)
    answered = [(output.name, output.datatype, list(output.shape)) for output in response.outputs]
    published = [
        (tensor["name"], tensor["datatype"], _concrete(tensor["shape"])) for tensor in metadata["outputs"]
    ]
    assert answered == published
    for output in response.outputs:
        assert output.as_numpy().dtype == NUMPY[output.datatype]


async def test_per_feature_inputs_stay_accepted_but_never_together_with_the_listed_input(
    plane: ArtifactDataPlane, model: FraudModel
) -> None:
    metadata = await plane.model_metadata("fraud")
    columns = [{"name": name, "datatype": "FP32", "shape": [-1]} for name in model.artifact.feature_names]

    response = await model.predict(_request_from(columns))

    assert isinstance(response, InferResponse)
    assert [output.name for output in response.outputs] == ["score", "label"]
    with pytest.raises(InvalidInput, match="not both"):
        await model.predict(_request_from(metadata["inputs"] + columns))


@pytest.mark.parametrize(
    "parameters",
    [
        {"feature_names": True},
        {"feature_names": "true"},
        {"feature_names": pb.InferParameter(bool_param=True)},
    ],
    ids=["rest-bool", "rest-string", "grpc"],
)
async def test_a_request_can_ask_for_the_feature_names(model: FraudModel, parameters: dict[str, Any]) -> None:
    inputs = [{"name": "features", "datatype": "FP32", "shape": [-1, len(model.artifact.feature_names)]}]

    response = await model.predict(_request_from(inputs, parameters=parameters))
    plain = await model.predict(_request_from(inputs))

    assert isinstance(response, InferResponse) and isinstance(plain, InferResponse)
    assert response.parameters is not None
    assert json.loads(response.parameters["feature_names"]) == list(model.artifact.feature_names)
    assert plain.parameters == {"label_threshold": "0.5"}


def test_server_metadata_advertises_only_the_repository_extension(plane: ArtifactDataPlane) -> None:
    assert plane.metadata()["extensions"] == ["model_repository_extension"]


async def test_repository_index_lists_the_model_and_its_state(
    plane: ArtifactDataPlane, model: FraudModel
) -> None:
    entry = {"name": "fraud", "version": model.version, "state": "READY", "reason": ""}

    assert await plane.repository_index() == [entry]
    assert await plane.repository_index(ready_only=True) == [entry]

    model.ready = False
    assert await plane.repository_index() == [
        {"name": "fraud", "version": "", "state": "UNAVAILABLE", "reason": "not loaded"}
    ]
    assert await plane.repository_index(ready_only=True) == []


def test_repository_index_messages_use_the_protocol_field_numbers() -> None:
    # repository_name = 1, ready = 2; models = 1 and ModelIndex name/version/state/reason = 1..4
    assert RepositoryIndexRequest(ready=True).SerializeToString() == b"\x10\x01"
    response = RepositoryIndexResponse()
    response.models.add(name="m", version="v", state="READY", reason="")
    assert response.SerializeToString() == b"\n\x0d\n\x01m\x12\x01v\x1a\x05READY"
