"""ModelPort without a server: the same FraudModel the model server runs, called in process."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import numpy.typing as npt

from services.adapters.kserve.sdk import InferInput, InferRequest, InferResponse, InvalidInput
from services.adapters.kserve.tensors import FEATURES_INPUT, SCORE_OUTPUT
from services.core.errors import BadRequestError
from services.core.ports import Explanations, FloatMatrix, ModelInfo
from services.model.artifact import ModelArtifact
from services.model.server import FraudModel

DEPENDENCY = "model"


class InProcessModel:
    """ModelPort over an in-memory FraudModel (for the embedded demo and tests).

    Args:
        artifact: a loaded artifact, or the directory to load one from (ArtifactError if bad).
        model_name: the name reported by info().
    """

    def __init__(self, artifact: ModelArtifact | Path | str, model_name: str = "fraud") -> None:
        if isinstance(artifact, ModelArtifact):
            self._model = FraudModel(model_name, artifact=artifact)
        else:
            self._model = FraudModel(model_name, Path(artifact))
        self._model.load()

    async def info(self) -> ModelInfo:
        artifact = self._model.artifact
        return ModelInfo(
            name=self._model.name,
            version=artifact.version,
            feature_names=artifact.feature_names,
            threshold=artifact.metadata.thresholds.label,
        )

    async def predict(self, features: FloatMatrix) -> npt.NDArray[np.float64]:
        matrix = np.ascontiguousarray(features, dtype=np.float32)
        if matrix.ndim == 2 and matrix.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        request = InferRequest(
            model_name=self._model.name,
            infer_inputs=[InferInput(FEATURES_INPUT, list(matrix.shape), "FP32", data=matrix)],
            request_id=uuid.uuid4().hex,
        )
        try:
            response = await self._model.predict(request)
        except InvalidInput as error:
            raise BadRequestError(DEPENDENCY, str(error)) from None
        assert isinstance(response, InferResponse)
        score = next(output for output in response.outputs if output.name == SCORE_OUTPUT)
        return np.asarray(score.as_numpy(), dtype=np.float64)

    async def explain(self, features: FloatMatrix) -> Explanations:
        matrix = np.asarray(features, dtype=np.float32)
        try:
            explanation = await self._model.explain({"instances": matrix})
        except InvalidInput as error:
            raise BadRequestError(DEPENDENCY, str(error)) from None
        return Explanations(
            contributions=np.asarray(explanation["contributions"], dtype=np.float32),
            base_values=np.asarray(explanation["base_value"], dtype=np.float64),
            feature_names=tuple(explanation["feature_names"]),
        )

    async def close(self) -> None:
        self._model.stop()
