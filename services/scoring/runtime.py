"""One scoring step shared by both ingress modes (Kafka pull, HTTP push).

decoded items -> pipeline (retried with backoff inside a circuit breaker) -> predictions and
dead letters published and acknowledged -> explanations queued. The caller acks its input
(commits offsets, answers 2xx) only after `handle` returned.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiobreaker import CircuitBreaker, CircuitBreakerError, CircuitBreakerState
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_random_exponential

from events import DecodeFailure, Event, HttpOrigin, KafkaOrigin, dead_letter_event
from services.adapters.tracing import context_of, traceparent_of
from services.core.errors import DependencyError
from services.core.ports import Publish
from services.core.scoring.explain import ExplanationWorker
from services.core.scoring.pipeline import BatchResult, Scored, ScoringItem, ScoringPipeline, StageFailure
from services.scoring.metrics import ScoringMetrics

log = logging.getLogger("rtinfer.scoring")


class DependencyDown(Exception):
    """A dependency stayed down past the retry budget, or its breaker is open."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RejectedInput:
    """An input that failed to decode, with where it came from."""

    failure: DecodeFailure
    origin: KafkaOrigin | HttpOrigin


@dataclass
class HandleResult:
    scored: list[Scored] = field(default_factory=list)
    dead_letters: list[Event[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Outputs:
    predictions: str
    explanations: str
    dlq: str
    shadow_predictions: str = "predictions.shadow"


class ScoringRuntime:
    def __init__(
        self,
        pipeline: ScoringPipeline,
        explanations: ExplanationWorker,
        publish: Publish,
        outputs: Outputs,
        tracer: Tracer,
        metrics: ScoringMetrics,
        *,
        retry_budget_s: float,
        retry_initial_s: float,
        retry_max_s: float,
        breaker_fail_max: int,
        breaker_reset_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pipeline = pipeline
        self.explanations = explanations
        self._publish = publish
        self._outputs = outputs
        self._tracer = tracer
        self.metrics = metrics
        self._retry = (retry_budget_s, retry_initial_s, retry_max_s)
        self.breaker = CircuitBreaker(
            fail_max=breaker_fail_max,
            timeout_duration=timedelta(seconds=breaker_reset_s),
            # Only a dependency failing opens the breaker; a poison item is not an outage.
            exclude=[lambda error: not isinstance(error, DependencyError)],
        )
        self._reset_s = breaker_reset_s
        self._clock = clock

    @property
    def breaker_open(self) -> bool:
        return self.breaker.current_state == CircuitBreakerState.OPEN

    async def handle(
        self,
        items: Sequence[ScoringItem],
        rejected: Sequence[RejectedInput],
        publish: Publish | None = None,
    ) -> HandleResult:
        """Score a batch and publish everything it produces; raises DependencyDown.

        Args:
            publish: where predictions and dead letters go instead of the runtime's publisher
                (the exactly-once ingress collects them for its transaction).
        """
        source = self.pipeline.policy.source
        seen = self._clock()
        letters = [
            dead_letter_event(r.failure, origin=r.origin, stage="decode", first_seen=seen, source=source)
            for r in rejected
        ]
        result = HandleResult(dead_letters=letters)
        if items:
            with self._tracer.start_as_current_span(
                "score batch",
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.batch.message_count": len(items),
                    "messaging.operation.type": "process",
                },
            ) as batch_span:
                if batch_span.is_recording():  # links cost a parse per event: only when kept
                    for span in _contexts(items):
                        batch_span.add_link(span.get_span_context())
                batch = await self._score_isolating(items)
            result.scored = [self._traced(scored, batch) for scored in batch.scored]
            result.dead_letters += [
                dead_letter_event(
                    f.item.event,
                    origin=f.item.origin,
                    stage=f.stage,
                    first_seen=f.item.received_at,
                    source=source,
                    reason=f.reason,
                    message=f.message,
                    field=f.field,
                )
                for f in batch.failures
            ]
            self.metrics.record_batch(batch, items, self._clock())
        predictions = [scored.prediction for scored in result.scored]
        if predictions:
            await self._publish_or_pause(self._outputs.predictions, predictions, publish)
        shadows = [shadow for scored in result.scored for shadow in scored.shadows]
        if shadows:
            await self._publish_or_pause(self._outputs.shadow_predictions, shadows, publish)
        if result.dead_letters:
            await self._publish_or_pause(self._outputs.dlq, result.dead_letters, publish)
        self.metrics.dead_lettered.add(len(result.dead_letters))
        self.explanations.offer([scored for scored in result.scored if scored.explain is not None])
        return result

    async def _publish_or_pause(
        self, topic: str, events: Sequence[Event[Any]], publish: Publish | None = None
    ) -> None:
        """Publish and wait for the acks; a broker that refuses is a dependency down (no commit)."""
        try:
            await (publish or self._publish)(topic, events)
        except DependencyError as error:
            raise DependencyDown(f"publishing to {topic} failed: {error}", min(self._reset_s, 5.0)) from error

    async def _score_isolating(self, items: Sequence[ScoringItem]) -> BatchResult:
        """Score the batch; an unexpected error is narrowed down by halving the batch, so a
        poison item becomes its own dead letter and the rest of the batch is still scored."""
        try:
            return await self._score(items)
        except (DependencyDown, DependencyError):
            raise
        except Exception as error:
            if len(items) == 1:
                log.exception("item %s cannot be scored; dead-lettered", items[0].event.id)
                self.metrics.poison.add(1)
                return BatchResult(failures=[_internal_failure(items[0], error)])
            log.warning(
                "batch of %d failed (%s: %s); scoring it in halves", len(items), type(error).__name__, error
            )
            middle = len(items) // 2
            first = await self._score_isolating(items[:middle])
            second = await self._score_isolating(items[middle:])
            return first.merge(second)

    async def _score(self, items: Sequence[ScoringItem]) -> BatchResult:
        budget, initial, maximum = self._retry
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: isinstance(error, DependencyError) and error.retryable),
            wait=wait_random_exponential(multiplier=initial, max=maximum),
            stop=stop_after_delay(budget),
            reraise=True,
        )
        started = time.monotonic()
        try:
            async for attempt in retrying:
                with attempt:
                    result: BatchResult = await self.breaker.call_async(self.pipeline.run, items)
                    return result
        except CircuitBreakerError as error:
            self.metrics.breaker_open.add(1)
            raise DependencyDown(f"breaker open: {error}", self._reset_s) from error
        except DependencyError as error:
            log.warning(
                "batch of %d failed after %.1fs of retries: %s", len(items), time.monotonic() - started, error
            )
            raise DependencyDown(str(error), min(self._reset_s, 5.0)) from error
        raise AssertionError("unreachable")

    def _traced(self, scored: Scored, batch: BatchResult) -> Scored:
        """A span per event, child of the producer's context, where that context is sampled (or
        the sampler samples a new root); the outputs carry it on. An event whose producer did not
        sample it costs no span: its prediction carries the incoming context on unchanged, and
        the batch span links to it."""
        event = scored.item.event
        context = context_of(event.traceparent, event.tracestate)
        if context is not None and not trace.get_current_span(context).get_span_context().trace_flags.sampled:
            return scored
        with self._tracer.start_as_current_span(
            "score",
            context=context,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.message.id": event.id,
                "rtinfer.prediction.id": scored.prediction.id,
                "rtinfer.decision": scored.prediction.data.decision.value,
            },
        ) as span:
            if not span.is_recording():  # a root the sampler dropped
                return scored
            for stage, (start_ns, end_ns) in batch.stage_ns.items():
                self._tracer.start_span(f"stage {stage}", start_time=start_ns).end(end_time=end_ns)
            parent = traceparent_of(span)
        prediction = dataclasses.replace(scored.prediction, traceparent=parent)
        shadows = tuple(dataclasses.replace(shadow, traceparent=parent) for shadow in scored.shadows)
        return dataclasses.replace(scored, prediction=prediction, shadows=shadows)


def _internal_failure(item: ScoringItem, error: Exception) -> StageFailure:
    return StageFailure(item, "score", "internal", f"{type(error).__name__}: {error}"[:1024])


def _contexts(items: Sequence[ScoringItem]) -> list[Any]:
    found = []
    for item in items:
        context = context_of(item.event.traceparent, item.event.tracestate)
        if context is not None:
            found.append(trace.get_current_span(context))
    return found
