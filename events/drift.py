"""Payload of `dev.rtinfer.drift.report.v1`: drift, performance and bias of one window."""

from __future__ import annotations

from pydantic import Field

from events.contract import Contract, NonEmptyStr, NonNegativeFloat, Probability
from events.drift_alert import DriftAlert, MonitorWindow


class WindowCounts(Contract):
    predictions: int = Field(ge=0, description="distinct predictions of the model in the window")
    explanations: int = Field(ge=0, description="distinct explanations used for attribution drift")
    flagged: int = Field(ge=0, description="predictions whose decision is not approve")
    duplicates: int = Field(ge=0, description="redelivered predictions and explanations, counted once")
    late: int = Field(ge=0, description="events dropped since the previous report: their window had closed")
    other_model: int = Field(ge=0, description="events of another model name or version, ignored")


class FeatureDrift(Contract):
    psi: NonNegativeFloat = Field(description="population stability index against the training bins")
    count: int = Field(ge=0, description="values seen (missing ones included)")
    missing: int = Field(ge=0, description="values that were null or NaN")


class ScoreDrift(Contract):
    psi: NonNegativeFloat
    mean: Probability


class AttributionDrift(Contract):
    mean_abs: NonNegativeFloat = Field(description="mean |contribution| in the window")
    reference: NonNegativeFloat = Field(description="mean |contribution| on the training data")
    ratio: NonNegativeFloat | None = Field(description="mean_abs / reference; null when reference is 0")
    count: int = Field(ge=0, description="explanations that carried this feature")


class Performance(Contract):
    """Ranking and threshold quality over the labeled predictions of `window`."""

    window: MonitorWindow = Field(description="whose predictions were joined to labels")
    labeled: int = Field(ge=0, description="predictions whose label was known when the report was built")
    positives: int = Field(ge=0)
    roc_auc: Probability | None = Field(default=None, description="null unless both classes are present")
    pr_auc: Probability | None = Field(default=None, description="average precision; null without positives")
    precision: Probability | None = Field(default=None, description="at each prediction's threshold")
    recall: Probability | None = Field(default=None, description="at each prediction's threshold")
    positive_rate: Probability | None = Field(default=None, description="share of labeled that are fraud")
    reference_positive_rate: Probability | None = None


class SegmentFigures(Contract):
    count: int = Field(ge=0, description="predictions with this segment value in the window")
    flag_rate: Probability = Field(description="share of them whose decision is not approve")
    negatives: int = Field(ge=0, description="labeled legitimate, in the performance window")
    positives: int = Field(ge=0, description="labeled fraud, in the performance window")
    fpr: Probability | None = Field(default=None, description="flagged share of negatives")
    tpr: Probability | None = Field(default=None, description="flagged share of positives")


class SegmentBias(Contract):
    """Figures per value of one segment attribute; disparity = min / max over eligible values."""

    values: dict[str, SegmentFigures]
    flag_rate_disparity: Probability | None = None
    fpr_disparity: Probability | None = None
    tpr_disparity: Probability | None = None


class DriftReport(Contract):
    """Everything the monitor measured in one closed window."""

    window: MonitorWindow
    model_name: NonEmptyStr
    model_version: NonEmptyStr
    counts: WindowCounts
    features: dict[str, FeatureDrift] = Field(default_factory=dict)
    score: ScoreDrift | None = Field(default=None, description="null when the window has no prediction")
    attribution: dict[str, AttributionDrift] = Field(default_factory=dict)
    performance: Performance
    bias: dict[str, SegmentBias] = Field(default_factory=dict, description="by segment attribute")
    alerts: list[DriftAlert] = Field(default_factory=list)
