"""What the scoring app builds from settings at start-up (never at import): the artifact's
metadata, the default feature store, model client and vector index, and the scoring runtime."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime

from opentelemetry.trace import Tracer

from services.core.model_metadata import ArtifactMetadata, MetadataError, read_metadata
from services.core.ports import (
    FeaturesPort,
    ModelInfo,
    ModelPort,
    Publish,
    RequestFeatureFn,
    VectorIndexPort,
)
from services.core.scoring.challengers import ChallengerPolicy
from services.core.scoring.explain import ExplanationWorker
from services.core.scoring.pipeline import ScoringPipeline
from services.scoring.metrics import ScoringMetrics
from services.scoring.runtime import Outputs, ScoringRuntime
from services.scoring.settings import ScoringSettings


class StartupError(RuntimeError):
    """The service cannot start; the message says what to fix."""


def load_metadata(settings: ScoringSettings) -> ArtifactMetadata:
    try:
        return read_metadata(settings.model_dir)
    except MetadataError as error:
        raise StartupError(
            f"no usable model metadata: {error}; run `rtinfer model train` or set RTINFER_SCORING_MODEL_DIR"
        ) from None


def load_request_features(spec: str) -> RequestFeatureFn:
    module_name, _, function_name = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise StartupError(f"request_features {spec!r} cannot be imported: {error}") from error
    return function  # type: ignore[no-any-return]


def default_features(settings: ScoringSettings) -> FeaturesPort:
    from services.adapters.feast.store import FeastOnlineFeatures, open_store

    store = open_store(settings.feast)
    try:
        return FeastOnlineFeatures(store, settings.feast.feature_service)
    except Exception as error:
        raise StartupError(
            f"feature service {settings.feast.feature_service!r} not found in {settings.feast.repo_dir}: {error}; "
            "run `rtinfer features apply` first"
        ) from error


def default_model(settings: ScoringSettings) -> ModelPort:
    from services.adapters.kserve.client import KServeModelClient

    return KServeModelClient.from_settings(settings.model)


def default_vectors(settings: ScoringSettings) -> VectorIndexPort | None:
    if not settings.vectors_enabled:
        return None
    from services.adapters.vectors.factory import make_index

    return make_index(settings.vectors)


async def served_model_info(
    model: ModelPort, metadata: ArtifactMetadata, settings: ScoringSettings
) -> ModelInfo:
    """The served model's info; StartupError when it expects other features than the artifact."""
    info = await model.info()
    if tuple(info.feature_names) != tuple(metadata.feature_names):
        raise StartupError(
            f"the served model's features {list(info.feature_names)} differ from the artifact's "
            f"{list(metadata.feature_names)} in {settings.model_dir}"
        )
    return info


def build_runtime(
    settings: ScoringSettings,
    metadata: ArtifactMetadata,
    info: ModelInfo,
    *,
    features: FeaturesPort,
    model: ModelPort,
    vectors: VectorIndexPort | None,
    publish: Publish,
    tracer: Tracer,
    metrics: ScoringMetrics,
    clock: Callable[[], datetime],
    challengers: ChallengerPolicy | None = None,
    explainers: Mapping[str, ModelPort] | None = None,
) -> ScoringRuntime:
    """The pipeline, its explanation worker (not started yet) and the runtime around both.

    Args:
        vectors: the vector index, or None to score without neighbours.
        challengers: models scored beside the champion (shadow, canary).
        explainers: by model name, the model explaining predictions a challenger decided.
    """
    policy = settings.policy(metadata.thresholds.review, metadata.thresholds.decline)
    pipeline = ScoringPipeline(
        policy,
        info,
        features,
        model,
        vectors,
        metadata.scaler.embed,
        load_request_features(settings.request_features),
        clock,
        challengers,
    )
    topics = settings.topics
    worker = ExplanationWorker(
        model,
        lambda events: publish(topics.explanations, events),
        info.feature_names,
        source=policy.source,
        top_k=policy.top_contributions,
        capacity=settings.explain_queue,
        clock=clock,
        explainers=explainers,
    )
    resilience = settings.resilience
    return ScoringRuntime(
        pipeline,
        worker,
        publish,
        Outputs(topics.predictions, topics.explanations, topics.dlq, topics.shadow_predictions),
        tracer,
        metrics,
        retry_budget_s=resilience.retry_budget_s,
        retry_initial_s=resilience.retry_initial_s,
        retry_max_s=resilience.retry_max_s,
        breaker_fail_max=resilience.breaker_fail_max,
        breaker_reset_s=resilience.breaker_reset_s,
        clock=clock,
    )


def explanation_counts(worker: ExplanationWorker) -> dict[tuple[tuple[str, str], ...], float]:
    """The explanation worker's counters as gauge observations by state."""
    counters = worker.counters
    return {
        (("state", "produced"),): counters.produced,
        (("state", "delayed"),): counters.delayed,
        (("state", "dropped"),): counters.dropped,
        (("state", "pending"),): worker.pending,
    }
