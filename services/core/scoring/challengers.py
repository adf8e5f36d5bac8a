"""Challenger models scored beside the champion: shadow and canary, pure over ports.

A challenger gets the same model matrix as the champion, concurrently. Its answer is optional:
the batch waits for it at most `ChallengerPolicy.wait_s` once the champion has answered, and
any failure (error, timeout, open breaker) only counts a missing shadow score. In canary mode a
deterministic share of entities (hash of the entity key, so a card stays on one side while the
share is unchanged) is decided by the canary challenger; the champion's score is then the
shadow, so every input still has both scores.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from services.core.ports import FloatMatrix, ModelInfo
from services.core.scoring.policy import DecisionPolicy


class ShadowMissing(Exception):
    """A challenger gave no scores for a batch; `reason` names why (timeout, breaker_open, ...)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class ChallengerModel(Protocol):
    """A challenger as the pipeline sees it: guarded (own timeout and breaker) by its adapter."""

    @property
    def name(self) -> str: ...

    def info(self) -> ModelInfo | None:
        """The served model's info once known (None until the first successful contact)."""
        ...

    async def predict(self, features: FloatMatrix) -> npt.NDArray[np.float64]:
        """Scores for each row, or ShadowMissing (any other exception counts as `error`)."""
        ...


@dataclass(frozen=True)
class Challenger:
    model: ChallengerModel
    decision: DecisionPolicy


@dataclass(frozen=True)
class ChallengerPolicy:
    """Which challengers run, which one (if any) decides a share of entities, how long to wait."""

    challengers: tuple[Challenger, ...] = ()
    canary: str | None = None  # name of the challenger that decides `canary_share` of entities
    canary_share: float = 0.0
    canary_key: str = "card_id"  # payload field hashed to pick the side
    wait_s: float = 0.25  # after the champion answered

    def __post_init__(self) -> None:
        if not 0.0 <= self.canary_share <= 1.0:
            raise ValueError(f"canary_share must be within [0, 1], got {self.canary_share}")
        names = [c.model.name for c in self.challengers]
        if len(set(names)) != len(names):
            raise ValueError(f"challenger names repeat: {names}")
        if self.canary is not None and self.canary not in names:
            raise ValueError(f"canary model {self.canary!r} is not a challenger ({names})")

    @property
    def canary_on(self) -> bool:
        return self.canary is not None and self.canary_share > 0.0


def canary_side(entity: str, share: float) -> bool:
    """True when `entity` is on the canary side at this share: a fixed point per entity in [0, 1),
    so raising the share only ever moves entities to the canary, lowering it only moves them back."""
    if share <= 0.0:
        return False
    digest = hashlib.blake2b(entity.encode(), digest_size=8, person=b"rtinfer-canary").digest()
    return int.from_bytes(digest, "big") / 2**64 < share


@dataclass
class ShadowScores:
    """What each challenger said about one batch: scores by name, and why the others are missing."""

    scores: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # name -> reason


class ShadowCalls:
    """The challengers' calls for one batch, started before the champion's and collected after."""

    def __init__(self, challengers: Sequence[Challenger], matrix: FloatMatrix) -> None:
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._tasks = {
            c.model.name: asyncio.create_task(self._timed(c.model, matrix), name=f"shadow {c.model.name}")
            for c in challengers
        }

    async def _timed(
        self, model: ChallengerModel, matrix: FloatMatrix
    ) -> tuple[npt.NDArray[np.float64], float]:
        scores = await model.predict(matrix)
        return scores, (asyncio.get_running_loop().time() - self._started) * 1000.0

    async def collect(self, wait_s: float, rows: int) -> ShadowScores:
        """Whatever answered within `wait_s` from now; the rest is cancelled and counted missing."""
        result = ShadowScores()
        if not self._tasks:
            return result
        _, pending = await asyncio.wait(self._tasks.values(), timeout=wait_s)
        for task in pending:
            task.cancel()
        for name, task in self._tasks.items():
            if task in pending:
                result.missing[name] = "late"
                continue
            error = task.exception()
            if error is not None:
                result.missing[name] = error.reason if isinstance(error, ShadowMissing) else "error"
                continue
            scores, elapsed_ms = task.result()
            scores = np.asarray(scores, dtype=np.float64)
            if scores.shape != (rows,):
                result.missing[name] = "bad_shape"
                continue
            result.scores[name] = scores
            result.latency_ms[name] = elapsed_ms
        return result

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
