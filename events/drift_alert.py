"""Payload of `dev.rtinfer.drift.alert.v1`, and the window both monitoring payloads refer to."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from events.contract import Contract, FiniteFloat, NonEmptyStr


class AlertMetric(StrEnum):
    """Well-known alert metrics; `DriftAlert.metric` stays an open set of snake_case names."""

    FEATURE_PSI = "feature_psi"
    SCORE_PSI = "score_psi"
    ATTRIBUTION_RATIO = "attribution_ratio"
    FLAG_RATE_DISPARITY = "flag_rate_disparity"
    FPR_DISPARITY = "fpr_disparity"
    TPR_DISPARITY = "tpr_disparity"
    ROC_AUC = "roc_auc"


class MonitorWindow(Contract):
    """A tumbling event-time window [start, end) of `size_s` seconds."""

    start: AwareDatetime
    end: AwareDatetime
    size_s: int = Field(gt=0, description="window length in seconds")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.end - self.start).total_seconds() != self.size_s:
            raise ValueError("end - start must equal size_s")
        return self


class DriftAlert(Contract):
    """One monitoring threshold crossed in one window."""

    window: MonitorWindow
    model_name: NonEmptyStr
    model_version: NonEmptyStr
    metric: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)] = Field(
        description="what crossed its threshold (open set, see docs/monitoring.md)"
    )
    feature: NonEmptyStr | None = Field(default=None, description="the feature, for feature metrics")
    segment: NonEmptyStr | None = Field(default=None, description="the segment attribute, for bias metrics")
    value: FiniteFloat
    threshold: FiniteFloat
    direction: Literal["above", "below"] = Field(description="value is above or below the threshold")
    message: Annotated[str, StringConstraints(min_length=1, max_length=512)]
