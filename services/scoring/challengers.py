"""Challengers as the scoring service runs them: a model client behind its own timeout and breaker.

A challenger never fails or holds up the champion: every failure becomes ShadowMissing with a
reason the metrics count (`timeout`, `unavailable`, `breaker_open`, `not_ready`, `features`).
Its metadata is read lazily, so a challenger whose server is down at start-up does not stop the
service; it joins once its server answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from aiobreaker import CircuitBreaker, CircuitBreakerError, CircuitBreakerState

from services.core.errors import DependencyError
from services.core.model_metadata import MetadataError, read_metadata
from services.core.ports import Explanations, FloatMatrix, ModelInfo, ModelPort
from services.core.scoring.challengers import Challenger, ChallengerPolicy, ShadowMissing
from services.core.scoring.policy import DecisionPolicy
from services.scoring.collaborators import StartupError
from services.scoring.settings import ChallengerSettings, ScoringSettings

log = logging.getLogger("rtinfer.scoring.challengers")
INFO_RETRY_S = 5.0


class GuardedChallenger:
    """ChallengerModel over a ModelPort: lazy metadata, a timeout per call, its own breaker."""

    def __init__(
        self, name: str, model: ModelPort, feature_names: tuple[str, ...], settings: ChallengerSettings
    ) -> None:
        self._name = name
        self.port = model
        self._features = feature_names
        self._timeout_s = settings.timeout_s
        self._info: ModelInfo | None = None
        self._info_tried = -INFO_RETRY_S
        self._wrong_features: str | None = None
        self.breaker = CircuitBreaker(
            fail_max=settings.breaker_fail_max, timeout_duration=timedelta(seconds=settings.breaker_reset_s)
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def breaker_open(self) -> bool:
        return self.breaker.current_state == CircuitBreakerState.OPEN

    def info(self) -> ModelInfo | None:
        return self._info

    async def predict(self, features: FloatMatrix) -> npt.NDArray[np.float64]:
        if self._wrong_features is not None:
            raise ShadowMissing("features", self._wrong_features)
        if self._info is None:
            await self._read_info()
        try:
            scores: npt.NDArray[np.float64] = await self.breaker.call_async(self._predict, features)
        except CircuitBreakerError as error:
            raise ShadowMissing("breaker_open", str(error)) from error
        except TimeoutError as error:
            raise ShadowMissing("timeout", f"no answer within {self._timeout_s}s") from error
        except DependencyError as error:
            raise ShadowMissing("unavailable", str(error)) from error
        return scores

    async def _predict(self, features: FloatMatrix) -> npt.NDArray[np.float64]:
        return await asyncio.wait_for(self.port.predict(features), self._timeout_s)

    async def explain(self, features: FloatMatrix) -> Explanations:
        return await self.port.explain(features)

    async def prime(self) -> bool:
        """Read the metadata now (at start-up) rather than on the first batch; False when the
        challenger's server does not answer yet (it is asked again from the batches)."""
        try:
            await self._read_info()
        except ShadowMissing:
            return False
        return True

    async def _read_info(self) -> None:
        """The served model's metadata, asked at most every INFO_RETRY_S while it is unknown."""
        now = time.monotonic()
        if now - self._info_tried < INFO_RETRY_S:
            raise ShadowMissing("not_ready", f"challenger {self._name} has not answered its metadata yet")
        self._info_tried = now
        try:
            info = await asyncio.wait_for(self.port.info(), self._timeout_s)
        except (TimeoutError, DependencyError) as error:
            log.warning("challenger %s: metadata not available yet: %s", self._name, error)
            raise ShadowMissing("not_ready", str(error)) from error
        if tuple(info.feature_names) != self._features:
            self._wrong_features = (
                f"challenger {self._name} expects features {list(info.feature_names)}, "
                f"the champion's matrix has {list(self._features)}"
            )
            log.error("%s; it gets no traffic", self._wrong_features)
            raise ShadowMissing("features", self._wrong_features)
        log.info("challenger %s %s joined", info.name, info.version)
        self._info = info


def challenger_policy(
    settings: ScoringSettings,
    champion: DecisionPolicy,
    feature_names: tuple[str, ...],
    injected: Mapping[str, ModelPort] | None = None,
) -> tuple[ChallengerPolicy, list[GuardedChallenger]]:
    """The challengers of `settings`, each a client of its model server (or the injected model of
    that name) behind its guard."""
    from services.adapters.kserve.client import KServeModelClient

    guarded, challengers = [], []
    for item in settings.challengers:
        model_settings = settings.model.model_copy(
            update={
                "model_name": item.name,
                "target": item.url or settings.model.target,
                "protocol": item.protocol or settings.model.protocol,
                "timeout_s": item.timeout_s,
                "rest_url": None if item.url else settings.model.rest_url,
            }
        )
        client = (injected or {}).get(item.name) or KServeModelClient.from_settings(model_settings)
        guard = GuardedChallenger(item.name, client, feature_names, item)
        guarded.append(guard)
        challengers.append(Challenger(guard, _thresholds(item, champion)))
    policy = ChallengerPolicy(
        challengers=tuple(challengers),
        canary=settings.canary,
        canary_share=settings.canary_share,
        canary_key=settings.canary_key,
        wait_s=settings.shadow_wait_s,
    )
    return policy, guarded


def _thresholds(item: ChallengerSettings, champion: DecisionPolicy) -> DecisionPolicy:
    review, decline = champion.review_at, champion.decline_at
    if item.model_dir is not None:
        try:
            thresholds = read_metadata(item.model_dir).thresholds
        except MetadataError as error:
            raise StartupError(
                f"challenger {item.name}: no usable metadata in {item.model_dir}: {error}"
            ) from None
        review, decline = thresholds.review, thresholds.decline
    return DecisionPolicy(
        review_at=item.review_at if item.review_at is not None else review,
        decline_at=item.decline_at if item.decline_at is not None else decline,
    )
