"""Thresholds crossed in a report, as DriftAlert payloads."""

from __future__ import annotations

from events.drift import DriftReport
from events.drift_alert import AlertMetric, DriftAlert
from services.core.monitoring.config import AlertThresholds


def find_alerts(report: DriftReport, limits: AlertThresholds) -> list[DriftAlert]:
    """Every threshold `report` crosses, in a fixed order: features, score, attribution, bias, AUC."""
    return [
        *_distribution_alerts(report, limits),
        *_attribution_alerts(report, limits),
        *_bias_alerts(report, limits),
        *_performance_alerts(report, limits),
    ]


def _alert(
    report: DriftReport,
    metric: AlertMetric,
    value: float,
    threshold: float,
    message: str,
    *,
    above: bool,
    feature: str | None = None,
    segment: str | None = None,
) -> DriftAlert:
    return DriftAlert(
        window=report.window,
        model_name=report.model_name,
        model_version=report.model_version,
        metric=metric.value,
        feature=feature,
        segment=segment,
        value=value,
        threshold=threshold,
        direction="above" if above else "below",
        message=message,
    )


def _distribution_alerts(report: DriftReport, limits: AlertThresholds) -> list[DriftAlert]:
    if report.counts.predictions < limits.min_predictions:
        return []
    found = [
        _alert(
            report,
            AlertMetric.FEATURE_PSI,
            feature.psi,
            limits.feature_psi,
            f"PSI of feature {name} is {feature.psi:.3f}, above {limits.feature_psi}",
            above=True,
            feature=name,
        )
        for name, feature in report.features.items()
        if feature.psi > limits.feature_psi
    ]
    if report.score is not None and report.score.psi > limits.score_psi:
        message = f"PSI of the score is {report.score.psi:.3f}, above {limits.score_psi}"
        found.append(
            _alert(report, AlertMetric.SCORE_PSI, report.score.psi, limits.score_psi, message, above=True)
        )
    return found


def _attribution_alerts(report: DriftReport, limits: AlertThresholds) -> list[DriftAlert]:
    found = []
    for name, attribution in report.attribution.items():
        ratio = attribution.ratio
        if ratio is None or attribution.count < limits.min_explanations:
            continue
        if ratio > limits.attribution_ratio_high:
            above, threshold = True, limits.attribution_ratio_high
        elif ratio < limits.attribution_ratio_low:
            above, threshold = False, limits.attribution_ratio_low
        else:
            continue
        message = (
            f"mean |contribution| of {name} is {ratio:.2f}x the training one, "
            f"{'above' if above else 'below'} {threshold}"
        )
        found.append(
            _alert(
                report, AlertMetric.ATTRIBUTION_RATIO, ratio, threshold, message, above=above, feature=name
            )
        )
    return found


def _bias_alerts(report: DriftReport, limits: AlertThresholds) -> list[DriftAlert]:
    found = []
    for attribute, bias in report.bias.items():
        for metric, ratio in (
            (AlertMetric.FLAG_RATE_DISPARITY, bias.flag_rate_disparity),
            (AlertMetric.FPR_DISPARITY, bias.fpr_disparity),
            (AlertMetric.TPR_DISPARITY, bias.tpr_disparity),
        ):
            if ratio is None or ratio >= limits.disparity:
                continue
            figure = metric.value.removesuffix("_disparity")
            message = f"{figure} across {attribute} values: min/max = {ratio:.2f}, below {limits.disparity}"
            found.append(
                _alert(report, metric, ratio, limits.disparity, message, above=False, segment=attribute)
            )
    return found


def _performance_alerts(report: DriftReport, limits: AlertThresholds) -> list[DriftAlert]:
    performance = report.performance
    auc = performance.roc_auc
    if auc is None or performance.labeled < limits.min_labeled or auc >= limits.roc_auc_floor:
        return []
    message = (
        f"ROC AUC over {performance.labeled} labeled predictions is {auc:.3f}, below {limits.roc_auc_floor}"
    )
    return [_alert(report, AlertMetric.ROC_AUC, auc, limits.roc_auc_floor, message, above=False)]
