"""The scoring service process: Kafka pull and/or HTTP push ingress around one runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import uvicorn
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from events import Event
from services.adapters.kafka.broker import make_broker
from services.adapters.kafka.publish import AiokafkaPublisher
from services.adapters.telemetry import setup_metrics
from services.adapters.tracing import make_tracer_provider
from services.core.ports import EventPublisher, FeaturesPort, ModelPort, VectorIndexPort
from services.scoring.components import Components, build_components
from services.scoring.http_ingress import build_http_app, run_checks
from services.scoring.kafka_ingress import KafkaIngress
from services.scoring.metrics import ScoringMetrics
from services.scoring.settings import ScoringSettings

log = logging.getLogger("rtinfer.scoring")
Ingress = Literal["kafka", "http", "both"]


class ScoringService:
    def __init__(
        self,
        settings: ScoringSettings,
        *,
        ingress: Ingress = "kafka",
        broker: KafkaBroker | None = None,
        features: FeaturesPort | None = None,
        model: ModelPort | None = None,
        vectors: VectorIndexPort | str | None = "default",
        tracer_provider: TracerProvider | None = None,
        publisher: EventPublisher | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Args:
        publisher: how outputs reach Kafka; default aiokafka directly. Pass a
            BrokerPublisher to publish through `broker` (its in-memory test mode).
        """
        self.settings = settings
        self.ingress = ingress
        self.broker = broker or make_broker(settings.kafka, "scoring", linger_ms=2)
        self.publisher = publisher or AiokafkaPublisher(
            settings.kafka, f"{settings.kafka.client_id}-scoring-out"
        )
        self._overrides: dict[str, Any] = {"features": features, "model": model, "vectors": vectors}
        self.tracer_provider = tracer_provider or make_tracer_provider(
            "rtinfer-scoring", settings.otlp_endpoint
        )
        self.metrics = ScoringMetrics(
            setup_metrics("rtinfer-scoring", settings.metrics_port, prometheus=True)
        )
        self._clock = clock
        self.kafka = KafkaIngress(settings, self.broker, clock) if ingress in ("kafka", "both") else None
        self.components: Components | None = None
        self._http: uvicorn.Server | None = None
        self._http_task: asyncio.Task[None] | None = None

    async def _publish(self, topic: str, events: Sequence[Event[Any]]) -> None:
        await self.publisher.publish(topic, events)

    async def start(self) -> None:
        await self.broker.connect()
        await self.publisher.start()
        self.components = await build_components(
            self.settings,
            self._publish,
            self.tracer_provider.get_tracer("rtinfer.scoring"),
            self.metrics,
            clock=self._clock,
            **self._overrides,
        )
        if self.kafka is not None:
            self.kafka.runtime = self.components.runtime
            self.metrics.observe(
                "messaging.kafka.consumer.lag",
                lambda: dict(self.kafka.lag) if self.kafka else {},
                "{message}",
            )
        if self.settings.gc_freeze:
            # Start-up objects (SDK clients, registries, schemas) live as long as the process:
            # frozen, full collections no longer walk them, which shortens their pauses.
            gc.collect()
            gc.freeze()
        await self.broker.start()
        if self.ingress in ("http", "both"):
            await self._start_http()
        log.info("scoring service started (ingress %s)", self.ingress)

    async def _start_http(self) -> None:
        app = build_http_app(
            lambda: self.components.runtime if self.components else None,
            self.ready,
            max_in_flight=self.settings.http_max_in_flight,
            max_event_bytes=self.settings.max_event_bytes,
            reply_with_prediction=self.settings.http_reply,
            clock=self._clock,
        )
        config = uvicorn.Config(
            app,
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_level="warning",
            lifespan="off",
        )
        self._http = uvicorn.Server(config)
        self._http_task = asyncio.create_task(self._http.serve())
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()
            await asyncio.sleep(0.05)

    async def ready(self) -> dict[str, str]:
        components = self.components
        if components is None:
            return {"service": "starting"}
        width = len(components.metadata.feature_names)
        probe_row = [dict.fromkeys(self.settings.entity_keys.values(), "readiness-probe")]

        async def kafka() -> None:
            if not await self.broker.ping(timeout=2.0):
                raise ConnectionError("broker did not answer")

        checks: dict[str, Any] = {
            "kafka": kafka,
            "feature_store": lambda: components.features.read(probe_row),
            "model": components.model.info,
        }
        if components.vectors is not None:
            vectors = components.vectors
            checks["vector_store"] = lambda: vectors.search(np.zeros((1, width), dtype=np.float32), 1)
        return await run_checks(checks)

    async def stop(self) -> None:
        """Stop fetching, finish the batch in flight, flush outputs, commit, close."""
        if self.kafka is not None:
            self.kafka.stopping = True
            async with self.kafka.in_flight:  # the batch in flight finishes and commits
                pass
        if self._http is not None:
            self._http.should_exit = True
            if self._http_task is not None:
                await self._http_task
        if self.components is not None:
            await self.components.runtime.explanations.drain(self.settings.shutdown_timeout_s / 2)
        await self.broker.stop()
        await self.publisher.stop()  # flushes the output producer
        if self.components is not None:
            await self.components.close()
        self.tracer_provider.shutdown()
        if self.settings.gc_freeze:
            gc.unfreeze()  # what this service held can be collected again

    async def run_until_signal(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        await stop.wait()
        log.info("stopping within %.0fs", self.settings.shutdown_timeout_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop(), self.settings.shutdown_timeout_s)
