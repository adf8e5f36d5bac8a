"""The scoring pipeline for one micro-batch, pure over ports.

enrich (one feature read) -> predict -> decide -> neighbours for the rows the policy wants them
for (one search; concurrent with the model when every row wants them) -> prediction events (+ which ones to explain). Failures are values tagged with
their stage; a dependency that the batch cannot do without raises DependencyError so the
caller retries, pauses or redelivers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from events import (
    Decision,
    Degraded,
    Event,
    ExplainReason,
    HttpOrigin,
    KafkaOrigin,
    Neighbour,
    Prediction,
    ShadowPrediction,
    ShadowRole,
    prediction_event,
    shadow_prediction_event,
)
from services.core.errors import DependencyError, DependencyUnavailable
from services.core.ports import (
    Embedder,
    FeaturesPort,
    ModelInfo,
    ModelPort,
    RequestFeatureFn,
    VectorIndexPort,
)
from services.core.ports import Neighbour as FoundNeighbour
from services.core.scoring.challengers import (
    Challenger,
    ChallengerPolicy,
    ShadowCalls,
    ShadowScores,
    canary_side,
)
from services.core.scoring.enrich import EnrichedRow, enrich_rows
from services.core.scoring.policy import NeighboursFor, ScoringPolicy, StalePolicy

log = logging.getLogger("rtinfer.scoring.pipeline")


@dataclass(frozen=True)
class ScoringItem:
    """A decoded input event and where it came from."""

    event: Event[Any]
    origin: KafkaOrigin | HttpOrigin
    received_at: datetime


@dataclass(frozen=True)
class StageFailure:
    """An item that cannot be scored; it goes to the DLQ with this reason."""

    item: ScoringItem
    stage: str
    reason: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Scored:
    item: ScoringItem
    prediction: Event[Prediction]
    features: npt.NDArray[np.float32]  # the model input row
    explain: ExplainReason | None
    shadows: tuple[Event[ShadowPrediction], ...] = ()  # one per challenger that answered


@dataclass
class BatchResult:
    scored: list[Scored] = field(default_factory=list)
    failures: list[StageFailure] = field(default_factory=list)
    stage_ms: dict[str, float] = field(default_factory=dict)
    stage_ns: dict[str, tuple[int, int]] = field(default_factory=dict)  # wall-clock start, end
    degraded: int = 0
    shadow_missing: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, reason) -> rows
    canary_decided: int = 0

    def merge(self, later: BatchResult) -> BatchResult:
        """This result and a later part's of the same batch: items in order, stage times summed,
        each stage's wall-clock span from the first start to the last end."""
        stage_ms = {
            stage: self.stage_ms.get(stage, 0.0) + later.stage_ms.get(stage, 0.0)
            for stage in {*self.stage_ms, *later.stage_ms}
        }
        stage_ns = dict(later.stage_ns)
        for stage, (start, end) in self.stage_ns.items():
            other = stage_ns.get(stage)
            stage_ns[stage] = (min(start, other[0]), max(end, other[1])) if other else (start, end)
        return BatchResult(
            scored=self.scored + later.scored,
            failures=self.failures + later.failures,
            stage_ms=stage_ms,
            stage_ns=stage_ns,
            degraded=self.degraded + later.degraded,
            shadow_missing={
                key: self.shadow_missing.get(key, 0) + later.shadow_missing.get(key, 0)
                for key in {*self.shadow_missing, *later.shadow_missing}
            },
            canary_decided=self.canary_decided + later.canary_decided,
        )


class ScoringPipeline:
    def __init__(
        self,
        policy: ScoringPolicy,
        model_info: ModelInfo,
        features: FeaturesPort,
        model: ModelPort,
        vectors: VectorIndexPort | None,
        embed: Embedder,
        request_features: RequestFeatureFn,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        challengers: ChallengerPolicy | None = None,
    ) -> None:
        self.policy = policy
        self.challengers = challengers or ChallengerPolicy()
        # Looked up per canary row and per shadow: by name once, not by a scan each time.
        self._challengers_by_name = {c.model.name: c for c in self.challengers.challengers}
        self.model_info = model_info
        self._features = features
        self._model = model
        self._vectors = vectors
        self._embed = embed
        self._request_features = request_features
        self._clock = clock

    async def run(self, items: Sequence[ScoringItem]) -> BatchResult:
        """Score `items`; larger than `policy.micro_batch`, as concurrent micro-batches of that
        size, each with its own dependency calls. Results come back in input order; the first
        failure of any micro-batch is raised once all have finished (the caller retries the
        whole batch, so no half of it is published)."""
        size = self.policy.micro_batch
        if not size or len(items) <= size:
            return await self._run(items)
        parts = [items[start : start + size] for start in range(0, len(items), size)]
        results = await asyncio.gather(*(self._run(part) for part in parts), return_exceptions=True)
        for outcome in results:
            if isinstance(outcome, BaseException):
                raise outcome
        merged = BatchResult()
        for outcome in results:
            assert isinstance(outcome, BatchResult)
            merged = merged.merge(outcome)
        return merged

    async def _run(self, items: Sequence[ScoringItem]) -> BatchResult:
        result = BatchResult()
        if not items:
            return result
        started = time.perf_counter()
        wall = time.time_ns()
        enriched = await self._enrich(items, result)
        result.stage_ms["enrich"] = _ms(started)
        result.stage_ns["enrich"] = (wall, time.time_ns())
        keep = [(item, row) for item, row in zip(items, enriched, strict=True) if row is not None]
        if not keep:
            return result
        matrix = np.asarray([row.vector for _, row in keep], dtype=np.float32)
        found = await self._score_and_find(keep, matrix, result)
        decided = time.perf_counter()
        decided_wall = time.time_ns()
        for index, (item, row) in enumerate(keep):
            scored = self._output(item, row, found, index, result.stage_ms)
            result.scored.append(scored)
            result.degraded += bool(scored.prediction.data.degraded)
        result.canary_decided = sum(found.canary)
        result.stage_ms["decide"] = _ms(decided)
        result.stage_ns["decide"] = (decided_wall, time.time_ns())
        result.stage_ms["total"] = _ms(started)
        return result

    async def _score_and_find(
        self,
        keep: list[tuple[ScoringItem, EnrichedRow]],
        matrix: npt.NDArray[np.float32],
        result: BatchResult,
    ) -> _Found:
        """Model scores for every row, and neighbours for the rows the policy wants them for.

        The challengers (if any) are asked concurrently with the champion and waited for at most
        `ChallengerPolicy.wait_s` after it. `all`: one search for the whole batch, concurrent
        with the model call. Otherwise the search runs after the decisions, for the chosen rows
        only (most payments are approved and nobody looks at their neighbours), or not at all."""
        policy = self.policy
        wants_all = policy.neighbours_for is NeighboursFor.ALL and self._vectors is not None
        calls = ShadowCalls(self.challengers.challengers, matrix) if self.challengers.challengers else None
        try:
            champion, neighbours = await self._predict_and_search(matrix, result, search=wants_all)
        except BaseException:
            if calls is not None:
                calls.cancel()
            raise
        shadow = ShadowScores()
        if calls is not None:  # what the champion's predictions wait for the challengers
            waited, wall = time.perf_counter(), time.time_ns()
            shadow = await calls.collect(self.challengers.wait_s, len(keep))
            result.stage_ms["shadow_wait"] = _ms(waited)
            result.stage_ns["shadow_wait"] = (wall, time.time_ns())
        for name, reason in shadow.missing.items():
            result.shadow_missing[(name, reason)] = result.shadow_missing.get((name, reason), 0) + len(keep)
            log.debug("challenger %s: no scores for a batch of %d (%s)", name, len(keep), reason)
        canary = self._canary_rows(keep, shadow)
        scores = champion
        decide = [policy.decision] * len(keep)
        if any(canary):
            assert self.challengers.canary is not None
            canary_policy = self._challenger(self.challengers.canary).decision
            scores = np.where(np.asarray(canary), shadow.scores[self.challengers.canary], champion)
            decide = [canary_policy if side else policy.decision for side in canary]
        decisions = [rule.decide(float(score)) for rule, score in zip(decide, scores, strict=True)]
        explains = [
            policy.explanation.reason(item.event.id, float(score), decision)
            for (item, _), score, decision in zip(keep, scores, decisions, strict=True)
        ]
        found = _Found(scores, decisions, explains, {}, set(), champion, shadow, canary)
        if self._vectors is None or policy.neighbours_for is NeighboursFor.NONE:
            return found
        if wants_all:
            wanted = list(range(len(keep)))
        else:
            wanted = [
                index
                for index, (decision, explain) in enumerate(zip(decisions, explains, strict=True))
                if policy.neighbours_for.wants(decision, explain)
            ]
            neighbours = await self._search(matrix[wanted], result) if wanted else []
        if neighbours is None:  # the search failed and the policy degrades
            found.missing = set(wanted)
        else:
            found.neighbours = dict(zip(wanted, neighbours, strict=True))
        return found

    def _canary_rows(self, keep: list[tuple[ScoringItem, EnrichedRow]], shadow: ShadowScores) -> list[bool]:
        """Which rows the canary challenger decides: its share of entities, when it answered (else
        the champion decides the whole batch, and the canary's missing score is counted)."""
        challengers = self.challengers
        if not challengers.canary_on or challengers.canary not in shadow.scores:
            return [False] * len(keep)
        key, share = challengers.canary_key, challengers.canary_share
        return [canary_side(str(getattr(item.event.data, key, "")), share) for item, _ in keep]

    def _challenger(self, name: str) -> Challenger:
        return self._challengers_by_name[name]

    async def _enrich(self, items: Sequence[ScoringItem], result: BatchResult) -> list[EnrichedRow | None]:
        keys = self.policy.entity_keys
        entity_rows = [
            {join_key: str(getattr(item.event.data, field)) for field, join_key in keys} for item in items
        ]
        try:
            stored = await asyncio.wait_for(self._features.read(entity_rows), self.policy.features_timeout_s)
        except TimeoutError as error:
            raise DependencyUnavailable(
                "feast", f"online read timed out after {self.policy.features_timeout_s}s"
            ) from error
        rows: list[EnrichedRow | None] = []
        enriched = enrich_rows(
            [item.event.data for item in items],
            stored,
            self.model_info.feature_names,
            self._request_features,
            self.policy.freshness,
            at=[item.event.time for item in items],
        )
        for item, row in zip(items, enriched, strict=True):
            if row.stale and self.policy.freshness.on_stale is StalePolicy.REJECT:
                result.failures.append(
                    StageFailure(
                        item,
                        "enrich",
                        "stale_features",
                        f"features older than their max age: {', '.join(row.stale)}",
                        field=row.stale[0],
                    )
                )
                rows.append(None)
                continue
            rows.append(row)
        return rows

    async def _timed(self, name: str, call: Any, limit_s: float, result: BatchResult) -> Any:
        started, wall = time.perf_counter(), time.time_ns()
        try:
            return await asyncio.wait_for(call, limit_s)
        except TimeoutError as error:
            raise DependencyUnavailable(name, f"no answer within {limit_s}s") from error
        finally:
            result.stage_ms[name] = _ms(started)
            result.stage_ns[name] = (wall, time.time_ns())

    async def _predict_and_search(
        self, matrix: npt.NDArray[np.float32], result: BatchResult, *, search: bool
    ) -> tuple[npt.NDArray[np.float64], list[list[FoundNeighbour]] | None]:
        predict = self._timed("model", self._model.predict(matrix), self.policy.model_timeout_s, result)
        if not search:
            return await predict, None
        outcome: tuple[Any, Any] = await asyncio.gather(
            predict, self._search(matrix, result), return_exceptions=True
        )
        scores, found = outcome
        if isinstance(scores, BaseException):
            raise scores
        if isinstance(found, BaseException):
            raise found
        return scores, found

    async def _search(
        self, matrix: npt.NDArray[np.float32], result: BatchResult
    ) -> list[list[FoundNeighbour]] | None:
        """Neighbours of each row; None when the index fails and the policy degrades."""
        assert self._vectors is not None
        call = self._vectors.search(self._embed(matrix), self.policy.neighbours_k)
        try:
            found: list[list[FoundNeighbour]] = await self._timed(
                "vectors", call, self.policy.vectors_timeout_s, result
            )
        except DependencyError:
            if self.policy.degrade_without_neighbours:
                return None
            raise
        return found

    def _output(
        self, item: ScoringItem, row: EnrichedRow, found: _Found, index: int, stage_ms: dict[str, float]
    ) -> Scored:
        policy = self.policy
        payload = item.event.data
        score = float(found.scores[index])
        decision, explain = found.decisions[index], found.explains[index]
        by_canary = found.canary[index]
        decider = self._challenger_info(self.challengers.canary) if by_canary else self.model_info
        threshold = (
            self._challenger(self.challengers.canary or "").decision.review_at
            if by_canary
            else policy.decision.review_at
        )
        degraded = []
        if index in found.missing:
            degraded.append(Degraded.NO_NEIGHBOURS.value)
        if row.stale:
            degraded.append(Degraded.STALE_FEATURES.value)
        if row.defaulted:
            degraded.append(Degraded.DEFAULTED_FEATURES.value)
        entity = {join_key: str(getattr(payload, name)) for name, join_key in policy.entity_keys}
        segment = {
            name: str(getattr(payload, name)) for name in policy.segment_fields if hasattr(payload, name)
        }
        prediction = Prediction(
            input_id=item.event.id,
            input_source=item.event.source,
            entity=entity,
            score=min(max(score, 0.0), 1.0),
            decision=decision,
            threshold=threshold,
            model_name=decider.name,
            model_version=decider.version,
            features=row.uses,
            neighbours=_neighbours(found.neighbours[index]) if index in found.neighbours else [],
            degraded=degraded,
            latency_ms={name: round(ms, 3) for name, ms in stage_ms.items()},
            segment=segment,
            explained=explain is not None,
        )
        now = self._clock()
        event = prediction_event(item.event, prediction, source=policy.source, time=now)
        shadows = (
            tuple(self._shadows(event, found, index, by_canary, entity, segment, now))
            if found.shadow.scores
            else ()
        )
        return Scored(item, event, np.asarray(row.vector, dtype=np.float32), explain, shadows)

    def _shadows(
        self,
        prediction: Event[Prediction],
        found: _Found,
        index: int,
        by_canary: bool,
        entity: dict[str, str],
        segment: dict[str, str],
        now: datetime,
    ) -> list[Event[ShadowPrediction]]:
        """One shadow score per challenger that answered; for a row the canary decided, the
        champion's score takes the canary's place."""
        shadows = []
        for challenger in self.challengers.challengers:
            name = challenger.model.name
            if name not in found.shadow.scores:
                continue
            if by_canary and name == self.challengers.canary:
                info, rule, role = self.model_info, self.policy.decision, ShadowRole.CHAMPION
                score, latency = float(found.champion[index]), prediction.data.latency_ms.get("model")
            else:
                info, rule, role = self._challenger_info(name), challenger.decision, ShadowRole.CHALLENGER
                score, latency = float(found.shadow.scores[name][index]), found.shadow.latency_ms.get(name)
            score = min(max(score, 0.0), 1.0)
            shadow = ShadowPrediction(
                input_id=prediction.data.input_id,
                input_source=prediction.data.input_source,
                prediction_id=prediction.id,
                role=role,
                entity=entity,
                score=score,
                decision=rule.decide(score),
                threshold=rule.review_at,
                decline_at=rule.decline_at,
                model_name=info.name,
                model_version=info.version,
                decided_by=prediction.data.model_name,
                latency_ms=None if latency is None else round(latency, 3),
                segment=segment,
            )
            shadows.append(shadow_prediction_event(prediction, shadow, source=self.policy.source, time=now))
        return shadows

    def _challenger_info(self, name: str | None) -> ModelInfo:
        info = self._challenger(name or "").model.info()
        if info is None:  # it answered for this batch, so its info is known
            raise RuntimeError(f"challenger {name} answered before its metadata was read")
        return info


@dataclass
class _Found:
    """What the model and the vector search said about the kept rows of a batch."""

    scores: npt.NDArray[np.float64]
    decisions: list[Decision]
    explains: list[ExplainReason | None]
    neighbours: dict[int, list[FoundNeighbour]]  # row index -> its neighbours (the rows searched)
    missing: set[int]  # rows that should have had neighbours but the search failed
    champion: npt.NDArray[np.float64]  # the champion's scores (== scores where it decided)
    shadow: ShadowScores  # what the challengers said
    canary: list[bool]  # rows the canary challenger decided


def _neighbours(found: list[FoundNeighbour]) -> list[Neighbour]:
    return [
        Neighbour(id=n.id, distance=float(n.distance), label=n.label if n.label in (0, 1) else None)  # type: ignore[arg-type]
        for n in found
    ]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
