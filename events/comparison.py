"""Payloads of `dev.rtinfer.comparison.report.v1` and `dev.rtinfer.promotion.verdict.v1`.

A champion and one challenger compared on the same inputs of one window (each input scored by
both), on the labels known when the window was evaluated; and what the promotion rule makes of it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from events.contract import Contract, FiniteFloat, NonEmptyStr, NonNegativeFloat, Probability
from events.drift_alert import MonitorWindow

Message = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Difference = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]


class Verdict(StrEnum):
    """What the promotion rule says about a challenger in one window."""

    PROMOTE = "promote"
    KEEP = "keep"
    NOT_ENOUGH_EVIDENCE = "not_enough_evidence"


class RuleClause(Contract):
    """One clause of the promotion rule, checked."""

    clause: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)] = Field(
        description="labelled_frauds | recall_gain | recall_gain_ci | segment_flag_rate (open set)"
    )
    passed: bool
    value: FiniteFloat | None = Field(description="the figure checked; null when it could not be computed")
    threshold: FiniteFloat = Field(description="what the rule asks of it")
    segment: NonEmptyStr | None = Field(
        default=None, description="attribute=value of the worst segment, for segment clauses"
    )
    message: Message


class PromotionRuleFigures(Contract):
    """The rule a verdict was made by (settings RTINFER_MONITOR_PROMOTION__*)."""

    min_frauds: int = Field(
        ge=1, description="labelled frauds a verdict other than not_enough_evidence needs"
    )
    min_recall_gain: NonNegativeFloat = Field(description="recall gain at equal alert budget to promote")
    max_segment_flag_rate_increase: NonNegativeFloat = Field(
        description="largest flag-rate increase (absolute) a segment may see"
    )
    segment_min_count: int = Field(ge=1, description="inputs a segment value needs to be checked")


class PromotionVerdict(Contract):
    """promote / keep / not_enough_evidence for one challenger in one window, with its reasons."""

    window: MonitorWindow
    champion_name: NonEmptyStr
    champion_version: NonEmptyStr
    challenger_name: NonEmptyStr
    challenger_version: NonEmptyStr
    verdict: Verdict
    labeled_frauds: int = Field(ge=0, description="labelled frauds among the inputs both models scored")
    recall_gain: Difference | None = Field(
        default=None, description="challenger − champion recall at equal alert budget"
    )
    recall_gain_ci_low: Difference | None = None
    recall_gain_ci_high: Difference | None = None
    rule: PromotionRuleFigures
    clauses: list[RuleClause] = Field(default_factory=list, description="every clause checked, in order")
    reasons: list[Message] = Field(default_factory=list, description="the clauses as sentences with figures")


class MetricComparison(Contract):
    """One figure for both models; the difference is challenger − champion."""

    champion: FiniteFloat | None = None
    challenger: FiniteFloat | None = None
    difference: FiniteFloat | None = None
    ci_low: FiniteFloat | None = Field(
        default=None, description="paired bootstrap interval of the difference"
    )
    ci_high: FiniteFloat | None = None


class ComparisonCounts(Contract):
    paired: int = Field(ge=0, description="inputs of the window scored by both models")
    labeled: int = Field(ge=0, description="paired inputs whose label was known at evaluation")
    positives: int = Field(ge=0, description="labelled frauds among them")
    champion_only: int = Field(ge=0, description="inputs with the champion's score and not the challenger's")
    challenger_only: int = Field(
        ge=0, description="inputs with the challenger's score and not the champion's"
    )
    duplicates: int = Field(ge=0, description="redelivered scores, counted once (since the previous report)")
    late: int = Field(ge=0, description="scores dropped: their window was already evaluated")


class SegmentComparison(Contract):
    """Both models on the paired inputs of one segment value, each at its own threshold."""

    count: int = Field(ge=0, description="paired inputs with this value")
    champion_flag_rate: Probability
    challenger_flag_rate: Probability
    flag_rate_difference: Difference = Field(description="challenger − champion")
    labeled: int = Field(ge=0)
    positives: int = Field(ge=0)
    champion_recall: Probability | None = Field(default=None, description="null without labelled fraud")
    challenger_recall: Probability | None = None


class BootstrapFigures(Contract):
    """How the intervals were drawn: events resampled with replacement, one resample for both models."""

    resamples: int = Field(ge=0, description="0: no intervals")
    confidence: float = Field(gt=0, lt=1, allow_inf_nan=False)
    seed: int = Field(ge=0, description="the window's generator seed (derived from the setting)")


class ModelComparison(Contract):
    """Champion and one challenger on the same inputs of one window."""

    window: MonitorWindow
    champion_name: NonEmptyStr
    champion_version: NonEmptyStr = Field(description="versions seen in the window, comma-separated")
    challenger_name: NonEmptyStr
    challenger_version: NonEmptyStr
    counts: ComparisonCounts
    alert_budget: Probability | None = Field(
        default=None, description="the champion's flag rate over the paired inputs: the equal alert budget"
    )
    roc_auc: MetricComparison = Field(description="over the labelled paired inputs")
    pr_auc: MetricComparison = Field(description="average precision, over the labelled paired inputs")
    recall_at_budget: MetricComparison = Field(
        description="recall when each model flags the top alert_budget share of the paired inputs"
    )
    recall_at_threshold: MetricComparison = Field(description="recall at each model's own threshold")
    flag_rate: MetricComparison = Field(description="flag rate at each model's own threshold")
    score_psi: NonNegativeFloat | None = Field(
        default=None, description="PSI of the challenger's scores against the champion's (champion deciles)"
    )
    bootstrap: BootstrapFigures
    segments: dict[str, dict[str, SegmentComparison]] = Field(
        default_factory=dict, description="segment attribute -> value -> figures"
    )
    verdict: PromotionVerdict

    @model_validator(mode="after")
    def _verdict_of_this_comparison(self) -> Self:
        verdict = self.verdict
        if (
            verdict.window,
            verdict.champion_name,
            verdict.champion_version,
            verdict.challenger_name,
            verdict.challenger_version,
        ) != (
            self.window,
            self.champion_name,
            self.champion_version,
            self.challenger_name,
            self.challenger_version,
        ):
            raise ValueError("verdict.window and the model names/versions must equal the comparison's")
        return self
