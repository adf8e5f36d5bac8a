"""FraudModel called directly with KServe request objects: scores, explanations, 400-worthy errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtinfer.model.synthetic import synthetic_data
from services.adapters.kserve.sdk import InferInput, InferRequest, InferResponse, InvalidInput
from services.core.errors import BadRequestError
from services.model.artifact import ArtifactError, ModelArtifact
from services.model.inprocess import InProcessModel
from services.model.server import FraudModel

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    features = synthetic_data(300, seed=21).features
    features[:5, 3] = np.nan  # missing values are allowed
    return features


@pytest.fixture
def model(small_artifact: ModelArtifact) -> FraudModel:
    fraud = FraudModel("fraud", artifact=small_artifact)
    fraud.load()
    return fraud


def _request(*inputs: InferInput, outputs: Any = None) -> InferRequest:
    return InferRequest(
        model_name="fraud", infer_inputs=list(inputs), request_id="r-1", request_outputs=outputs
    )


def _matrix_input(values: np.ndarray, datatype: str = "FP32") -> InferInput:
    return InferInput("features", list(values.shape), datatype, data=values.tolist())


def _outputs(response: InferResponse) -> dict[str, np.ndarray]:
    return {output.name: output.as_numpy() for output in response.outputs}


async def test_v2_matrix_input_gives_scores_and_labels(model: FraudModel, rows: np.ndarray) -> None:
    response = await model.predict(_request(_matrix_input(rows.astype(np.float32))))

    assert isinstance(response, InferResponse)
    outputs = _outputs(response)
    expected = np.asarray(model.artifact.booster.predict(rows.astype(np.float32)))
    np.testing.assert_array_equal(outputs["score"], expected.astype(np.float32))
    np.testing.assert_array_equal(outputs["label"], (expected >= 0.5).astype(np.int32))
    assert response.model_version == model.version
    assert response.id == "r-1"
    assert response.parameters == {"label_threshold": "0.5"}


async def test_v2_one_input_per_feature_in_any_order(model: FraudModel, rows: np.ndarray) -> None:
    names = model.artifact.feature_names
    inputs = [
        InferInput(name, [len(rows), 1] if index % 2 else [len(rows)], "FP64", data=rows[:, index].tolist())
        for index, name in reversed(list(enumerate(names)))
    ]

    response = await model.predict(_request(*inputs))

    assert isinstance(response, InferResponse)
    np.testing.assert_array_equal(
        _outputs(response)["score"], np.asarray(model.artifact.booster.predict(rows)).astype(np.float32)
    )


async def test_v2_requested_outputs_only(model: FraudModel, rows: np.ndarray) -> None:
    from kserve.protocol.infer_type import RequestedOutput

    response = await model.predict(_request(_matrix_input(rows[:3]), outputs=[RequestedOutput("label")]))

    assert isinstance(response, InferResponse)
    assert [output.name for output in response.outputs] == ["label"]


def _column(name: str, values: list[float], datatype: str = "FP32") -> InferInput:
    return InferInput(name, [len(values)], datatype, data=values)


MALFORMED = {
    "no inputs": ([], r"no inputs"),
    "wrong width": (
        [InferInput("features", [1, 3], "FP32", data=[1.0, 2.0, 3.0])],
        r"shape \[N, 10\], got \[1, 3\]",
    ),
    "three dimensions": ([InferInput("features", [1, 1, 10], "FP32", data=[0.0] * 10)], r"shape \[N, 10\]"),
    "data does not fit shape": (
        [InferInput("features", [2, 10], "FP32", data=[0.0] * 10)],
        r"data does not match shape",
    ),
    "bytes": (
        [InferInput("features", [1, 10], "BYTES", data=[b"x"] * 10)],
        r"datatype BYTES; expected one of",
    ),
    "strings in numbers": (
        [InferInput("features", [1, 10], "FP32", data=["x"] * 10)],
        r"data does not match shape",
    ),
    "unknown input": (
        [InferInput("pixels", [1, 10], "FP32", data=[0.0] * 10)],
        r"unknown inputs \['pixels'\]",
    ),
    "empty batch": ([InferInput("features", [0, 10], "FP32", data=[])], r"empty batch"),
    "infinity": ([InferInput("features", [1, 10], "FP64", data=[np.inf] + [0.0] * 9)], r"infinite value"),
    "negative shape": (
        [InferInput("features", [-1, 10], "FP32", data=[0.0] * 10)],
        r"invalid shape \[-1, 10\]",
    ),
    "matrix and columns": (
        [InferInput("features", [1, 10], "FP32", data=[0.0] * 10), _column("amount", [1.0])],
        r"not both",
    ),
    "duplicate input": (
        [InferInput("features", [1, 10], "FP32", data=[0.0] * 10)] * 2,
        r"duplicate inputs: \['features'\]",
    ),
    "missing feature input": ([_column("amount", [1.0])], r"missing feature inputs \['amount_vs_card_mean'"),
}


@pytest.mark.parametrize(("inputs", "reason"), list(MALFORMED.values()), ids=list(MALFORMED))
async def test_malformed_v2_requests_are_invalid_input(
    model: FraudModel, inputs: list[InferInput], reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        await model.predict(_request(*inputs))


async def test_columns_of_different_lengths_are_invalid(model: FraudModel) -> None:
    names = model.artifact.feature_names
    inputs = [_column(name, [1.0] * (2 if index else 3)) for index, name in enumerate(names)]

    with pytest.raises(InvalidInput, match=r"different lengths \[2, 3\]"):
        await model.predict(_request(*inputs))


async def test_unknown_requested_output_is_invalid(model: FraudModel, rows: np.ndarray) -> None:
    from kserve.protocol.infer_type import RequestedOutput

    with pytest.raises(InvalidInput, match=r"unknown outputs \['logits'\]"):
        await model.predict(_request(_matrix_input(rows[:1]), outputs=[RequestedOutput("logits")]))


async def test_v1_predict(model: FraudModel, rows: np.ndarray) -> None:
    instances = [[None if np.isnan(value) else value for value in row] for row in rows[:10].tolist()]

    response = await model.predict({"instances": instances})

    assert isinstance(response, dict)
    np.testing.assert_array_equal(response["predictions"], model.artifact.booster.predict(rows[:10]))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"rows": []}, r'expected a JSON object \{"instances"'),
        ({"instances": "abc"}, r"must be a list of rows"),
        ({"instances": [[1.0, "x"] * 5]}, r"rows of 10 numbers"),
        ({"instances": [[1.0] * 10, [1.0]]}, r"rows of 10 numbers"),
        ({"instances": []}, r"empty batch"),
        (b"{not json", r"not JSON"),
    ],
)
async def test_malformed_v1_requests_are_invalid_input(model: FraudModel, payload: Any, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        await model.predict(payload)
    with pytest.raises(InvalidInput, match=reason):
        await model.explain(payload)


async def test_explanation_is_additive(model: FraudModel, rows: np.ndarray) -> None:
    explanation = await model.explain({"instances": rows})

    contributions = np.asarray(explanation["contributions"])
    base = np.asarray(explanation["base_value"])
    raw = model.artifact.booster.predict(rows, raw_score=True)
    assert contributions.shape == rows.shape
    np.testing.assert_allclose(contributions.sum(axis=1) + base, raw, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(explanation["raw_scores"], raw)
    np.testing.assert_array_equal(explanation["scores"], model.artifact.booster.predict(rows))
    assert explanation["feature_names"] == list(model.artifact.feature_names)


def test_ready_only_after_load(artifact_dir: Path, tmp_path: Path) -> None:
    model = FraudModel("fraud", artifact_dir)
    assert not model.ready
    assert model.load() and model.ready

    broken = FraudModel("fraud", tmp_path / "missing")
    with pytest.raises(ArtifactError, match="directory not found"):
        broken.load()
    assert not broken.ready


async def test_in_process_model_implements_the_port(small_artifact: ModelArtifact, rows: np.ndarray) -> None:
    port = InProcessModel(small_artifact)

    info = await port.info()
    scores = await port.predict(rows.astype(np.float32))
    explanations = await port.explain(rows[:20].astype(np.float32))
    empty = await port.predict(np.empty((0, 10), dtype=np.float32))

    assert (info.version, info.threshold, info.feature_names) == (
        small_artifact.version,
        0.5,
        small_artifact.feature_names,
    )
    np.testing.assert_array_equal(
        scores, np.asarray(small_artifact.booster.predict(rows.astype(np.float32))).astype(np.float32)
    )
    raw = small_artifact.booster.predict(rows[:20].astype(np.float32), raw_score=True)
    np.testing.assert_allclose(
        explanations.contributions.sum(axis=1) + explanations.base_values, raw, atol=1e-5
    )
    assert empty.shape == (0,)
    with pytest.raises(BadRequestError, match=r"must have shape \[N, 10\], got \[2, 3\]"):
        await port.predict(np.zeros((2, 3), dtype=np.float32))
    await port.close()
