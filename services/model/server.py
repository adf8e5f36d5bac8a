"""The KServe model: V2 infer (REST + gRPC), V1 predict and V1 explain over one artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.adapters.kserve.sdk import (
    DataPlane,
    InferRequest,
    InferResponse,
    InvalidInput,
    Model,
    rest_app,
)
from services.adapters.kserve.tensors import input_metadata, output_metadata
from services.model.artifact import ModelArtifact
from services.model.predictor import FeatureMatrixError, Predictor
from services.model.repository import EXTENSION as REPOSITORY_EXTENSION
from services.model.repository import READY, UNAVAILABLE, install_rest_index
from services.model.tensors import (
    feature_names_requested,
    features_from_instances,
    features_from_request,
    score_response,
)

PLATFORM = "lightgbm"


class FraudModel(Model):
    """A LightGBM binary classifier served by kserve.ModelServer; ready once its artifact loaded.

    Args:
        name: the model name on the endpoint paths.
        model_dir: the artifact directory read by load().
        artifact: an artifact already in memory (then load() only marks the model ready).
        predict_threads: LightGBM threads per prediction.
    """

    def __init__(
        self,
        name: str = "fraud",
        model_dir: Path | None = None,
        *,
        artifact: ModelArtifact | None = None,
        predict_threads: int = 1,
    ) -> None:
        super().__init__(name)
        if model_dir is None and artifact is None:
            raise ValueError("FraudModel needs a model_dir or an artifact")
        self.model_dir = model_dir
        self._artifact = artifact
        self._predict_threads = predict_threads
        self._predictor: Predictor | None = None

    def load(self) -> bool:
        """Load (or adopt) the artifact; raises ArtifactError when it is missing or corrupt."""
        artifact = self._artifact
        if artifact is None:
            assert self.model_dir is not None
            artifact = ModelArtifact.load(self.model_dir)
        self._artifact = artifact
        self._predictor = Predictor(artifact, num_threads=self._predict_threads)
        self.ready = True
        return self.ready

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            raise RuntimeError(f"model {self.name} is not loaded")
        return self._predictor

    @property
    def artifact(self) -> ModelArtifact:
        return self.predictor.artifact

    @property
    def version(self) -> str:
        return self.artifact.version

    def get_input_types(self) -> list[dict[str, Any]]:
        """The published inputs: `features` [-1, F] only (per-feature inputs are accepted, not listed)."""
        return input_metadata(self.artifact.feature_names)

    def get_output_types(self) -> list[dict[str, Any]]:
        return output_metadata()

    async def predict(
        self,
        payload: InferRequest | dict[str, Any],
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse | dict[str, Any]:
        """V2 InferRequest -> score + label tensors; V1 {"instances"} -> {"predictions"}."""
        predictor = self.predictor
        if isinstance(payload, InferRequest):
            features = features_from_request(payload, self.artifact.feature_names)
            scores = _checked(predictor.score, features)
            return score_response(
                payload,
                scores,
                model_name=self.name,
                version=self.version,
                threshold=predictor.threshold,
                feature_names=self.artifact.feature_names if feature_names_requested(payload) else None,
            )
        features = features_from_instances(payload, predictor.feature_count)
        scores = _checked(predictor.score, features)
        return {"predictions": scores.probabilities.tolist(), "model_version": self.version}

    async def explain(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        """V1 {"instances"} -> exact TreeSHAP: contributions per feature plus a base value per row."""
        predictor = self.predictor
        features = features_from_instances(payload, predictor.feature_count)
        attribution = _checked(predictor.explain, features)
        return {
            "model_name": self.name,
            "model_version": self.version,
            "feature_names": list(self.artifact.feature_names),
            "base_value": attribution.base_values.tolist(),
            "contributions": attribution.contributions.tolist(),
            "scores": attribution.probabilities.tolist(),
            "raw_scores": attribution.raw_scores.tolist(),
        }


def _checked(method: Any, features: np.ndarray) -> Any:
    try:
        return method(features)
    except FeatureMatrixError as error:
        raise InvalidInput(str(error)) from None


class ArtifactDataPlane(DataPlane):
    """KServe's data plane plus the artifact version in model metadata, 400s for bad requests,
    and the repository index (REST here, gRPC in services.model.grpc_server)."""

    # Only extensions this server answers in full; each one is exercised by the interop test.
    EXTENSIONS = (REPOSITORY_EXTENSION,)

    def __init__(self, model_registry: Any) -> None:
        super().__init__(model_registry=model_registry)
        self._install_rest_handlers()

    def __setstate__(self, state: dict[str, Any]) -> None:
        # REST worker processes (workers > 1) receive the data plane pickled and build their own app.
        self.__dict__.update(state)
        self._install_rest_handlers()

    def _install_rest_handlers(self) -> None:
        install_rest_error_handlers()
        install_rest_index(self)

    def metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = super().metadata()
        metadata["extensions"] = list(self.EXTENSIONS)
        return metadata

    async def model_metadata(self, model_name: str) -> dict[str, Any]:
        metadata: dict[str, Any] = await super().model_metadata(model_name)
        model = self.get_model_from_registry(model_name)
        if isinstance(model, FraudModel):
            metadata.update(versions=[model.version], platform=PLATFORM)
        return metadata

    async def repository_index(self, *, ready_only: bool = False) -> list[dict[str, str]]:
        """The repository index: every registered model with its version and state."""
        entries = []
        for name, model in self.model_registry.get_models().items():
            ready = bool(await self.model_registry.is_model_ready(name))
            if ready_only and not ready:
                continue
            version = model.version if ready and isinstance(model, FraudModel) else ""
            entries.append(
                {
                    "name": name,
                    "version": version,
                    "state": READY if ready else UNAVAILABLE,
                    "reason": "" if ready else "not loaded",
                }
            )
        return entries

    def decode_inference_request(self, body: Any, headers: dict[str, Any], model_name: str) -> InferRequest:
        try:
            return super().decode_inference_request(body, headers, model_name)
        except InvalidInput:
            raise
        except (KeyError, TypeError, ValueError) as error:
            # KServe reshapes binary tensors while decoding; a size mismatch would otherwise be a 500.
            raise InvalidInput(f"malformed binary tensor request: {error}") from None


async def _invalid_body(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # KServe types the V2 body as InferenceRequest | bytes; the bytes alternative only adds noise.
    problems = [issue for issue in error.errors() if tuple(issue["loc"][:2]) != ("body", "bytes")]
    reason = "; ".join(
        "not JSON"
        if issue["type"] == "json_invalid"
        else ".".join(str(part) for part in issue["loc"][1:] if part != "InferenceRequest")
        + f": {issue['msg']}"
        for issue in problems
    )
    return JSONResponse(status_code=400, content={"error": f"invalid request body: {reason}"})


def install_rest_error_handlers() -> None:
    """Answer a structurally invalid body with 400 and an {"error"} reason, as the V2 protocol does."""
    rest_app.add_exception_handler(RequestValidationError, _invalid_body)
