"""What the monitor core is told: windows, label join, bias segments, alert thresholds,
champion/challenger comparison and the promotion rule."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.core.monitoring.psi import DEFAULT_EPSILON


class AlertThresholds(BaseModel):
    """When a figure raises an alert, and how much evidence a window needs first."""

    model_config = ConfigDict(frozen=True)

    feature_psi: float = Field(default=0.2, gt=0, description="alert when a feature's PSI is above")
    score_psi: float = Field(default=0.2, gt=0, description="alert when the score PSI is above")
    attribution_ratio_high: float = Field(
        default=2.0, gt=1, description="alert when mean |contribution| ratio is above"
    )
    attribution_ratio_low: float = Field(
        default=0.5, gt=0, lt=1, description="alert when that ratio is below"
    )
    disparity: float = Field(
        default=0.8, gt=0, le=1, description="alert when a min/max disparity ratio is below"
    )
    roc_auc_floor: float = Field(default=0.7, ge=0, le=1, description="alert when ROC AUC is below")
    min_predictions: int = Field(default=100, ge=1, description="PSI alerts need this many predictions")
    min_explanations: int = Field(
        default=30, ge=1, description="attribution alerts need this many explanations"
    )
    min_labeled: int = Field(
        default=50, ge=1, description="the AUC alert needs this many labeled predictions"
    )


class MonitorConfig(BaseModel):
    """The core's configuration; built from the service settings (or directly in tests)."""

    model_config = ConfigDict(frozen=True)

    window_sizes_s: tuple[int, ...] = Field(default=(300, 3600), min_length=1)
    allowed_lateness_s: float = Field(default=60.0, ge=0)
    idle_close_s: float | None = Field(
        default=None, gt=0, description="with no prediction for this long (clock time), event time moves on"
    )
    performance_delay_s: float = Field(
        default=0.0, ge=0, description="performance of a report covers the window this much earlier"
    )
    segment_attributes: tuple[str, ...] = ("country", "card_type")
    segment_min_count: int = Field(
        default=100, ge=1, description="predictions a segment value needs for disparity"
    )
    segment_min_labeled: int = Field(
        default=30, ge=1, description="labeled a segment value needs for FPR/TPR disparity"
    )
    attribution_reasons: tuple[str, ...] = Field(
        default=(), description="explanation reasons used for attribution drift; empty = all"
    )
    psi_epsilon: float = Field(default=DEFAULT_EPSILON, gt=0, lt=0.01)
    label_store_max: int = Field(default=200_000, ge=1, description="predictions kept for the label join")
    pending_labels_max: int = Field(
        default=100_000, ge=1, description="labels kept until their prediction arrives"
    )
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if any(size <= 0 for size in self.window_sizes_s) or len(set(self.window_sizes_s)) != len(
            self.window_sizes_s
        ):
            raise ValueError("window sizes must be positive and distinct")
        return self

    @property
    def label_retention_s(self) -> float:
        """How far behind the watermark a prediction may still be needed for a report."""
        return self.performance_delay_s + max(self.window_sizes_s) + self.allowed_lateness_s


class PromotionRule(BaseModel):
    """When a challenger is worth promoting, from one window's comparison with the champion.

    promote: at least `min_frauds` labelled frauds, recall at equal alert budget better by at
    least `min_recall_gain` with its bootstrap interval above 0, and no segment value (with at
    least `segment_min_count` paired inputs) flagged more often by more than
    `max_segment_flag_rate_increase`. keep: enough frauds but a clause fails. Else
    not_enough_evidence.
    """

    model_config = ConfigDict(frozen=True)

    min_frauds: int = Field(default=30, ge=1, description="labelled frauds a verdict needs")
    min_recall_gain: float = Field(
        default=0.02, ge=0, le=1, description="recall gain at equal alert budget to promote"
    )
    max_segment_flag_rate_increase: float = Field(
        default=0.02, ge=0, le=1, description="largest flag-rate increase a segment value may see"
    )
    segment_min_count: int = Field(default=100, ge=1, description="paired inputs a segment value needs")


class ComparisonConfig(BaseModel):
    """Champion and challengers on the same inputs: what is compared, per which windows, how."""

    model_config = ConfigDict(frozen=True)

    champion: str = Field(min_length=1, description="model name of the champion")
    challengers: tuple[str, ...] = Field(min_length=1, description="model names compared with it")
    window_sizes_s: tuple[int, ...] = Field(default=(300, 3600), min_length=1)
    allowed_lateness_s: float = Field(default=60.0, ge=0)
    evaluation_delay_s: float = Field(
        default=0.0, ge=0, description="a window is evaluated this much after it closes (label maturity)"
    )
    idle_close_s: float | None = Field(default=None, gt=0)
    segment_attributes: tuple[str, ...] = ("country", "card_type")
    resamples: int = Field(default=1000, ge=0, description="bootstrap resamples; 0 = no intervals")
    confidence: float = Field(default=0.95, gt=0, lt=1)
    seed: int = Field(default=0, ge=0, description="bootstrap seed; each window derives its own from it")
    bootstrap_max_events: int = Field(
        default=20_000, ge=100, description="above this many labelled inputs, resample a sample of them"
    )
    psi_bins: int = Field(default=10, ge=1)
    psi_epsilon: float = Field(default=DEFAULT_EPSILON, gt=0, lt=0.01)
    store_max: int = Field(default=200_000, ge=1, description="scored inputs kept until evaluated")
    pending_labels_max: int = Field(default=100_000, ge=1, description="labels kept until a score arrives")
    rule: PromotionRule = Field(default_factory=PromotionRule)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if any(size <= 0 for size in self.window_sizes_s) or len(set(self.window_sizes_s)) != len(
            self.window_sizes_s
        ):
            raise ValueError("window sizes must be positive and distinct")
        if len(set(self.challengers)) != len(self.challengers):
            raise ValueError(f"challenger names repeat: {self.challengers}")
        return self

    @property
    def retention_s(self) -> float:
        """How far behind the watermark an input may still be needed for an evaluation."""
        return self.evaluation_delay_s + max(self.window_sizes_s) + self.allowed_lateness_s
