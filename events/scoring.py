"""Payloads of `dev.rtinfer.prediction.v1` and `dev.rtinfer.explanation.v1`."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.contract import Contract, FiniteFloat, NonEmptyStr, NonNegativeFloat, Probability


class Decision(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    DECLINE = "decline"


class ExplainReason(StrEnum):
    """Why a prediction was explained."""

    FLAGGED = "flagged"
    SCORE_BAND = "score_band"
    SAMPLED = "sampled"
    ALWAYS = "always"


class Degraded(StrEnum):
    """Well-known degradation flags; `Prediction.degraded` stays an open list of strings."""

    NO_NEIGHBOURS = "no_neighbours"
    STALE_FEATURES = "stale_features"
    DEFAULTED_FEATURES = "defaulted_features"
    NO_FEATURES = "no_features"
    NO_EXPLANATION = "no_explanation"


class FeatureUse(Contract):
    """One feature as the model saw it."""

    value: FiniteFloat | None
    event_timestamp: AwareDatetime | None = None
    age_s: FiniteFloat | None = Field(default=None, description="feature age at prediction time")
    stale: bool = False
    defaulted: bool = Field(default=False, description="value was missing and a default was used")


class Neighbour(Contract):
    """A similar past event from the vector index."""

    id: NonEmptyStr
    distance: FiniteFloat
    label: Literal[0, 1] | None = Field(default=None, description="1 = confirmed fraud, null = unknown")


class Prediction(Contract):
    """A scored input event."""

    input_id: NonEmptyStr = Field(description="CloudEvent id of the input")
    input_source: NonEmptyStr = Field(description="CloudEvent source of the input")
    entity: dict[str, str] = Field(description='entity keys, e.g. {"card_id": ..., "merchant_id": ...}')
    score: Probability
    decision: Decision
    threshold: Probability
    model_name: NonEmptyStr
    model_version: NonEmptyStr
    features: dict[str, FeatureUse] = Field(default_factory=dict)
    neighbours: list[Neighbour] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list, description="degradation flags, see docs/events.md")
    latency_ms: dict[str, NonNegativeFloat] = Field(default_factory=dict, description="per stage")
    segment: dict[str, str] = Field(
        default_factory=dict, description="input attributes copied for monitoring (country, ...)"
    )
    explained: bool = Field(default=False, description="an explanation event follows")


class TopContribution(Contract):
    feature: NonEmptyStr
    contribution: FiniteFloat
    value: FiniteFloat | None = None


class Explanation(Contract):
    """Feature attributions of one prediction."""

    prediction_id: NonEmptyStr = Field(description="CloudEvent id of the prediction")
    input_id: NonEmptyStr = Field(description="CloudEvent id of the input")
    model_name: NonEmptyStr
    model_version: NonEmptyStr
    score: Probability
    base_value: FiniteFloat = Field(description="model output before any feature contributes")
    contributions: dict[str, FiniteFloat] = Field(description="every feature's contribution")
    top: list[TopContribution] = Field(
        default_factory=list, description="largest |contribution| first; a subset of contributions"
    )
    neighbours: list[Neighbour] = Field(default_factory=list)
    reason: ExplainReason

    @model_validator(mode="after")
    def _top_is_ranked_subset(self) -> Self:
        magnitudes = []
        for item in self.top:
            if self.contributions.get(item.feature) != item.contribution:
                raise ValueError(f"top feature {item.feature!r} does not match contributions")
            magnitudes.append(abs(item.contribution))
        if magnitudes != sorted(magnitudes, reverse=True):
            raise ValueError("top must be ranked by |contribution|, largest first")
        if len({item.feature for item in self.top}) != len(self.top):
            raise ValueError("top lists a feature twice")
        return self


class ShadowRole(StrEnum):
    """Which side of a champion/challenger pair a shadow score comes from."""

    CHALLENGER = "challenger"  # the usual case: a challenger scored in the champion's shadow
    CHAMPION = "champion"  # canary: the challenger decided, the champion's score is the shadow


class ShadowPrediction(Contract):
    """A score that did not decide: one per input per model in the shadow of the deciding one.

    Same input, same features as the deciding prediction (`prediction_id`), so the two are
    comparable event by event once the input's label arrives.
    """

    input_id: NonEmptyStr = Field(description="CloudEvent id of the input")
    input_source: NonEmptyStr = Field(description="CloudEvent source of the input")
    prediction_id: NonEmptyStr = Field(description="CloudEvent id of the deciding prediction")
    role: ShadowRole = Field(description="challenger, or champion when a canary challenger decided")
    entity: dict[str, str] = Field(description="entity keys, as on the prediction")
    score: Probability
    decision: Decision = Field(description="what this model would have decided, by its own thresholds")
    threshold: Probability = Field(description="this model's review threshold")
    decline_at: Probability = Field(description="this model's decline threshold")
    model_name: NonEmptyStr
    model_version: NonEmptyStr
    decided_by: NonEmptyStr = Field(description="model_name of the prediction that decided")
    latency_ms: NonNegativeFloat | None = Field(default=None, description="this model's call")
    segment: dict[str, str] = Field(default_factory=dict, description="as on the prediction")
