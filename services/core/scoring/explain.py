"""Explanations off the hot path: a bounded queue and a worker that batches explain calls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from events import Event, Explanation, TopContribution, explanation_event
from services.core.errors import DependencyError
from services.core.ports import EventSink, Explanations, FloatMatrix, ModelPort
from services.core.scoring.pipeline import Scored

log = logging.getLogger("rtinfer.explain")
EXPLAIN_ATTEMPTS = 3
EXPLAIN_BACKOFF_S = 0.5


@dataclass
class ExplainCounters:
    produced: int = 0
    delayed: int = 0  # waited for a full queue or a retry before being explained
    dropped: int = 0  # queue full or explain failed for good: no explanation event
    failed_batches: int = 0  # batches lost to an unexpected error (logged with its traceback)
    restarts: int = 0  # times the supervisor restarted a worker that died


def build_explanation(
    scored: Scored,
    contributions: np.ndarray,
    base_value: float,
    feature_names: Sequence[str],
    top_k: int,
    source: str,
    now: datetime,
) -> Event[Explanation]:
    """The explanation event of one prediction from its exact attributions."""
    prediction = scored.prediction
    by_name = {name: float(value) for name, value in zip(feature_names, contributions, strict=True)}
    ranked = sorted(by_name, key=lambda name: abs(by_name[name]), reverse=True)[:top_k]
    uses = prediction.data.features
    top = [
        TopContribution(
            feature=name, contribution=by_name[name], value=uses[name].value if name in uses else None
        )
        for name in ranked
    ]
    reason = scored.explain
    assert reason is not None
    explanation = Explanation(
        prediction_id=prediction.id,
        input_id=prediction.data.input_id,
        model_name=prediction.data.model_name,
        model_version=prediction.data.model_version,
        score=prediction.data.score,
        base_value=float(base_value),
        contributions=by_name,
        top=top,
        neighbours=list(prediction.data.neighbours),
        reason=reason,
    )
    return explanation_event(prediction, explanation, source=source, time=now)


class ExplanationWorker:
    """Takes scored items that need an explanation and emits them in small batches.

    The queue is bounded: when it is full, `offer` drops the item and counts it, so
    predictions never wait for explanations.
    """

    def __init__(
        self,
        model: ModelPort,
        sink: EventSink,
        feature_names: Sequence[str],
        *,
        source: str,
        top_k: int = 5,
        capacity: int = 10_000,
        batch_size: int = 256,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        explainers: Mapping[str, ModelPort] | None = None,
    ) -> None:
        self._model = model
        self._explainers = dict(explainers or {})
        self._sink = sink
        self._names = tuple(feature_names)
        self._source = source
        self._top_k = top_k
        self._queue: asyncio.Queue[Scored] = asyncio.Queue(maxsize=capacity)
        self._batch_size = batch_size
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.counters = ExplainCounters()

    def offer(self, items: Sequence[Scored]) -> None:
        for item in items:
            try:
                self._queue.put_nowait(item)
            except asyncio.QueueFull:
                self.counters.dropped += 1

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="explanations")
        self._task.add_done_callback(self._restart_if_died)

    def _restart_if_died(self, task: asyncio.Task[None]) -> None:
        """The supervisor: a worker that died of anything but cancellation is started again."""
        if task.cancelled() or self._task is not task:
            return
        error = task.exception()
        log.error("explanation worker died (%r); restarting it", error)
        self.counters.restarts += 1
        self.start()

    async def drain(self, timeout_s: float) -> None:
        """Wait until everything queued so far is explained (or the timeout passes)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._explain(batch)
            except Exception:
                # One bad batch must not end the worker (every later explanation would be lost).
                log.exception("explaining a batch of %d failed; dropped, worker goes on", len(batch))
                self.counters.dropped += len(batch)
                self.counters.failed_batches += 1
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _explain_with_retry(self, model: ModelPort, matrix: FloatMatrix, rows: int) -> Explanations:
        """Three attempts, 0.5 s then 1 s apart; the last DependencyError is raised."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DependencyError),
            stop=stop_after_attempt(EXPLAIN_ATTEMPTS),
            wait=wait_exponential(multiplier=EXPLAIN_BACKOFF_S, min=EXPLAIN_BACKOFF_S),
            before_sleep=lambda state: self._delayed(state, rows),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await model.explain(matrix)
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _delayed(self, state: RetryCallState, rows: int) -> None:
        self.counters.delayed += rows
        error = state.outcome.exception() if state.outcome else None
        log.warning("explain failed (attempt %d): %s", state.attempt_number, error)

    async def _explain(self, batch: list[Scored]) -> None:
        """Each prediction explained by the model that made it (a canary challenger's by its own)."""
        if not self._explainers:
            await self._explain_by(self._model, batch)
            return
        by_model: dict[str, list[Scored]] = {}
        for item in batch:
            by_model.setdefault(item.prediction.data.model_name, []).append(item)
        for name, items in by_model.items():
            await self._explain_by(self._explainers.get(name, self._model), items)

    async def _explain_by(self, model: ModelPort, batch: list[Scored]) -> None:
        matrix = np.stack([item.features for item in batch]).astype(np.float32)
        try:
            result = await self._explain_with_retry(model, matrix, len(batch))
        except DependencyError:
            self.counters.dropped += len(batch)
            return
        now = self._clock()
        events: list[Event[Any]] = [
            build_explanation(
                item,
                result.contributions[i],
                float(result.base_values[i]),
                result.feature_names or self._names,
                self._top_k,
                self._source,
                now,
            )
            for i, item in enumerate(batch)
        ]
        try:
            await self._sink(events)
        except Exception as error:
            log.warning("publishing %d explanations failed: %s", len(events), error)
            self.counters.dropped += len(events)
            return
        self.counters.produced += len(events)
