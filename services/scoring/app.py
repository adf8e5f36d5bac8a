"""The scoring process: one owner of the broker, the publisher, the scoring runtime and its
collaborators, and of the two ingresses (Kafka pull, HTTP push) that hand batches to it."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import uvicorn
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from events import Event
from services.adapters.kafka.broker import make_broker
from services.adapters.kafka.publish import AiokafkaPublisher, TransactionalPublisher
from services.adapters.lifecycle import run_until_signal
from services.adapters.telemetry import setup_metrics
from services.adapters.tracing import make_tracer_provider
from services.core.model_metadata import ArtifactMetadata
from services.core.ports import EventPublisher, FeaturesPort, ModelInfo, ModelPort, VectorIndexPort
from services.core.scoring.challengers import ChallengerPolicy
from services.scoring.challengers import GuardedChallenger, challenger_policy
from services.scoring.collaborators import (
    StartupError,
    build_runtime,
    default_features,
    default_model,
    default_vectors,
    explanation_counts,
    load_metadata,
    served_model_info,
)
from services.scoring.http_ingress import HttpLimits, build_http_app, run_checks
from services.scoring.kafka_ingress import KafkaIngress
from services.scoring.metrics import ScoringMetrics
from services.scoring.runtime import ScoringRuntime
from services.scoring.settings import ScoringSettings

log = logging.getLogger("rtinfer.scoring")
Ingress = Literal["kafka", "http", "both"]


class ScoringApp:
    """Scores payment events arriving over Kafka (pull) and/or HTTP (Knative push).

    Args:
        ingress: which ingresses run.
        broker: the Kafka broker (tests pass one under TestKafkaBroker); default from settings.
        features, model: injected ports; default Feast and the KServe client, built at start-up.
        vectors: an injected index, None for no neighbours, or "default" (from settings).
        publisher: how outputs reach Kafka; default aiokafka directly. Pass a
            BrokerPublisher to publish through `broker` (its in-memory test mode).
        challengers: injected challenger models by name (each still needs its entry in
            settings.challengers); default a KServe client per challenger.
    """

    def __init__(
        self,
        settings: ScoringSettings,
        *,
        ingress: Ingress = "kafka",
        broker: KafkaBroker | None = None,
        features: FeaturesPort | None = None,
        model: ModelPort | None = None,
        vectors: VectorIndexPort | Literal["default"] | None = "default",
        tracer_provider: TracerProvider | None = None,
        publisher: EventPublisher | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        challengers: Mapping[str, ModelPort] | None = None,
    ) -> None:
        self.settings = settings
        self._injected_challengers = dict(challengers or {})
        self.ingress = ingress
        self.broker = broker or make_broker(settings.kafka, "scoring", linger_ms=2)
        self.publisher = publisher or AiokafkaPublisher(
            settings.kafka, f"{settings.kafka.client_id}-scoring-out"
        )
        self.tracer_provider = tracer_provider or make_tracer_provider(
            "rtinfer-scoring", settings.otlp_endpoint
        )
        self.metrics = ScoringMetrics(
            setup_metrics("rtinfer-scoring", settings.metrics_port, prometheus=True)
        )
        self.kafka = KafkaIngress(settings, self.broker, clock) if ingress in ("kafka", "both") else None
        self._injected_features = features
        self._injected_model = model
        self._injected_vectors = vectors
        self._clock = clock
        self._metadata: ArtifactMetadata | None = None
        self._features: FeaturesPort | None = None
        self._model: ModelPort | None = None
        self._vectors: VectorIndexPort | None = None
        self._runtime: ScoringRuntime | None = None
        self._transactions: TransactionalPublisher | None = None
        self._http: uvicorn.Server | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._challengers: list[GuardedChallenger] = []

    @property
    def runtime(self) -> ScoringRuntime:
        """The runtime both ingresses hand batches to (explanation worker, pipeline)."""
        if self._runtime is None:
            raise RuntimeError("the scoring app has not started")
        return self._runtime

    async def _publish(self, topic: str, events: Sequence[Event[Any]]) -> None:
        await self.publisher.publish(topic, events)

    async def start(self) -> None:
        """Connect, build the runtime and its collaborators, then consume and serve."""
        await self._connect()
        runtime = await self._build_runtime()
        if self.kafka is not None:
            if self.settings.processing_guarantee == "exactly-once":
                self._transactions = TransactionalPublisher(
                    self.settings.kafka,
                    f"{self.settings.kafka.client_id}-scoring-tx",
                    self.settings.transactional_id or f"{self.settings.group_id}-{socket.gethostname()}",
                )
                await self._transactions.start()
            self.kafka.start(runtime, self._transactions)
            kafka = self.kafka
            self.metrics.observe("messaging.kafka.consumer.lag", lambda: dict(kafka.lag), "{message}")
        if self.settings.gc_freeze:
            # Start-up objects (SDK clients, registries, schemas) live as long as the process:
            # frozen, full collections no longer walk them, which shortens their pauses.
            gc.collect()
            gc.freeze()
        await self.broker.start()
        if self.ingress in ("http", "both"):
            await self._start_http()
        log.info("scoring service started (ingress %s)", self.ingress)

    async def _connect(self) -> None:
        """Reach the brokers once at start-up; a refusal (unreachable, TLS, wrong credentials) is a
        StartupError: one line naming the endpoint and the mechanism, never the secret."""
        from aiokafka.errors import KafkaError

        kafka = self.settings.kafka
        try:
            await self.broker.connect()
            await self.publisher.start()
        except KafkaError as error:
            how = " ".join(filter(None, (kafka.security_protocol, kafka.sasl_mechanism)))
            cause = error.__cause__ or error.__context__
            detail = f"{error}" + (f" ({cause})" if cause and str(cause) not in str(error) else "")
            raise StartupError(f"cannot connect to Kafka at {kafka.bootstrap} ({how}): {detail}") from error

    async def _build_runtime(self) -> ScoringRuntime:
        settings = self.settings
        self._metadata = metadata = load_metadata(settings)
        self._features = features = self._injected_features or default_features(settings)
        self._model = model = self._injected_model or default_model(settings)
        vectors = self._injected_vectors
        self._vectors = default_vectors(settings) if isinstance(vectors, str) else vectors
        info = await served_model_info(model, metadata, settings)
        challengers, self._challengers = await self._make_challengers(settings, metadata, info)
        runtime = build_runtime(
            settings,
            metadata,
            info,
            features=features,
            model=model,
            vectors=self._vectors,
            publish=self._publish,
            tracer=self.tracer_provider.get_tracer("rtinfer.scoring"),
            metrics=self.metrics,
            clock=self._clock,
            challengers=challengers,
            explainers={guard.name: guard.port for guard in self._challengers},
        )
        runtime.explanations.start()
        self.metrics.observe(
            "rtinfer.explanations", lambda: explanation_counts(runtime.explanations), "{event}"
        )
        self.metrics.observe("rtinfer.breaker.state", lambda: {(): 1.0 if runtime.breaker_open else 0.0}, "1")
        self._runtime = runtime
        return runtime

    async def _make_challengers(
        self, settings: ScoringSettings, metadata: ArtifactMetadata, info: ModelInfo
    ) -> tuple[ChallengerPolicy | None, list[GuardedChallenger]]:
        if not settings.challengers:
            return None, []
        policy, guarded = challenger_policy(
            settings,
            settings.policy(metadata.thresholds.review, metadata.thresholds.decline).decision,
            tuple(info.feature_names),
            self._injected_challengers,
        )
        for guard in guarded:
            await guard.prime()
        self.metrics.observe(
            "rtinfer.shadow.breaker.state",
            lambda: {(("model", guard.name),): 1.0 if guard.breaker_open else 0.0 for guard in guarded},
            "1",
        )
        log.info(
            "challengers: %s; canary %s at %.1f%% of entities",
            ", ".join(guard.name for guard in guarded),
            policy.canary or "off",
            100 * policy.canary_share,
        )
        return policy, guarded

    async def _start_http(self) -> None:
        app = build_http_app(
            lambda: self._runtime,
            self.ready,
            limits=HttpLimits(
                max_in_flight=self.settings.http_max_in_flight,
                max_event_bytes=self.settings.max_event_bytes,
                max_body_bytes=self.settings.http_max_body_bytes,
                read_timeout_s=self.settings.http_read_timeout_s,
                max_batch_items=self.settings.http_max_batch_items,
            ),
            reply_with_prediction=self.settings.http_reply,
            clock=self._clock,
        )
        config = uvicorn.Config(
            app,
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_level="warning",
            lifespan="off",
            # Bounds the bodies being received at once (each at most http_max_body_bytes).
            limit_concurrency=self.settings.http_max_connections,
        )
        self._http = uvicorn.Server(config)
        self._http_task = asyncio.create_task(self._http.serve())
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()
            await asyncio.sleep(0.05)

    async def ready(self) -> dict[str, str]:
        """Readiness of each dependency: "ok" or why not."""
        metadata, features, model = self._metadata, self._features, self._model
        if self._runtime is None or metadata is None or features is None or model is None:
            return {"service": "starting"}
        width = len(metadata.feature_names)
        probe_row = [dict.fromkeys(self.settings.entity_keys.values(), "readiness-probe")]

        async def kafka() -> None:
            if not await self.broker.ping(timeout=2.0):
                raise ConnectionError("broker did not answer")

        checks: dict[str, Any] = {
            "kafka": kafka,
            **({"kafka_progress": self._kafka_progress} if self.kafka is not None else {}),
            "feature_store": lambda: features.read(probe_row),
            "model": model.info,
        }
        if self._vectors is not None:
            vectors = self._vectors
            checks["vector_store"] = lambda: vectors.search(np.zeros((1, width), dtype=np.float32), 1)
        return await run_checks(checks)

    async def _kafka_progress(self) -> None:
        if self.kafka is not None:
            self.kafka.failures.check()
            self.kafka.unreadable.check(self.settings.stuck_after_s)

    async def stop(self) -> None:
        """Stop fetching, finish the batch in flight, flush outputs, commit, close."""
        if self.kafka is not None:
            await self.kafka.stop()  # the batch in flight finishes and commits
        if self._http is not None:
            self._http.should_exit = True
            if self._http_task is not None:
                await self._http_task
        if self._runtime is not None:
            await self._runtime.explanations.drain(self.settings.shutdown_timeout_s / 2)
        await self.broker.stop()
        await self.publisher.stop()  # flushes the output producer
        if self._transactions is not None:
            await self._transactions.stop()
        if self._runtime is not None:
            await self._close_collaborators()
        self.tracer_provider.shutdown()
        if self.settings.gc_freeze:
            gc.unfreeze()  # what this service held can be collected again

    async def _close_collaborators(self) -> None:
        await self.runtime.explanations.stop()
        if self._model is not None:
            await self._model.close()
        for challenger in self._challengers:
            await challenger.port.close()
        close_features = getattr(self._features, "close", None)
        if close_features is not None:
            await close_features()
        if self._vectors is not None:
            await self._vectors.close()

    async def run_until_signal(self) -> None:
        """Start, serve until SIGTERM or SIGINT, then stop within the shutdown timeout."""
        await run_until_signal(self.start, self.stop, shutdown_timeout_s=self.settings.shutdown_timeout_s)
