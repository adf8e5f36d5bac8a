"""OpenTelemetry instruments of the monitor: a gauge per reported figure (drift reports and
champion/challenger comparisons), counters of events."""

from __future__ import annotations

from collections import Counter

from opentelemetry.metrics import Meter

from events.comparison import ModelComparison, Verdict
from events.drift import DriftReport

_PREFIX = "rtinfer.monitor."
_COMPARE_PREFIX = "compare_"  # runner outcomes of the comparison (services.monitor.runner)
_COMPARED = ("roc_auc", "pr_auc", "recall_at_budget", "recall_at_threshold", "flag_rate")
_GAUGES = {
    "feature_psi": "PSI of one feature in the last closed window",
    "score_psi": "PSI of the score in the last closed window",
    "score_mean": "mean score in the last closed window",
    "attribution_mean_abs": "mean |contribution| of one feature",
    "attribution_ratio": "mean |contribution| over the training one",
    "roc_auc": "ROC AUC over labeled predictions",
    "pr_auc": "average precision over labeled predictions",
    "precision": "precision at the prediction threshold",
    "recall": "recall at the prediction threshold",
    "labeled": "labeled predictions in the performance window",
    "segment_flag_rate": "flag rate of one segment value",
    "segment_fpr": "false positive rate of one segment value",
    "segment_tpr": "true positive rate of one segment value",
    "disparity": "min/max ratio of a figure across segment values",
    "window_predictions": "predictions in the last closed window",
    "window_late": "events dropped as late before the last report",
    "promotion_verdict": "1 for the verdict of the last comparison of a challenger, 0 for the others",
    "comparison_value": "a compared figure of one model (role champion or challenger)",
    "comparison_difference": "challenger - champion of a compared figure",
    "comparison_ci_low": "lower bound of the bootstrap interval of the difference",
    "comparison_ci_high": "upper bound of the bootstrap interval of the difference",
    "comparison_labeled_frauds": "labelled frauds scored by both models in the window",
    "comparison_score_psi": "PSI of the challenger's scores against the champion's",
}


class MonitorMetrics:
    """Sets the gauges from each published report; counts events by outcome and alerts by metric."""

    def __init__(self, meter: Meter) -> None:
        self._gauges = {
            name: meter.create_gauge(_PREFIX + name, description=description)
            for name, description in _GAUGES.items()
        }
        self._events = meter.create_counter(
            _PREFIX + "events", unit="{event}", description="events by outcome"
        )
        self._alerts = meter.create_counter(
            _PREFIX + "alerts", unit="{alert}", description="alerts by metric"
        )
        self._compared_events = meter.create_counter(
            _PREFIX + "comparison_events", unit="{event}", description="events of the comparison by outcome"
        )

    def count_events(self, outcomes: Counter[str]) -> None:
        for outcome, count in outcomes.items():
            if outcome.startswith(_COMPARE_PREFIX):
                self._compared_events.add(count, {"rtinfer.outcome": outcome.removeprefix(_COMPARE_PREFIX)})
            else:
                self._events.add(count, {"rtinfer.outcome": outcome})

    def record_comparison(self, report: ModelComparison) -> None:
        """The verdict gauge (one series per verdict: 1 for this one, 0 for the others) and the
        compared figures of one published comparison report."""
        base: dict[str, str | int] = {
            "rtinfer.champion.name": report.champion_name,
            "rtinfer.challenger.name": report.challenger_name,
            "rtinfer.window.size_s": report.window.size_s,
        }
        for verdict in Verdict:
            value = 1.0 if verdict is report.verdict.verdict else 0.0
            self._gauges["promotion_verdict"].set(value, {**base, "rtinfer.verdict": verdict.value})
        self._set("comparison_labeled_frauds", report.counts.positives, base)
        self._set("comparison_score_psi", report.score_psi, base)
        for name in _COMPARED:
            figure = getattr(report, name)
            about = {"rtinfer.metric": name}
            self._set("comparison_value", figure.champion, base, {**about, "rtinfer.model.role": "champion"})
            self._set(
                "comparison_value", figure.challenger, base, {**about, "rtinfer.model.role": "challenger"}
            )
            self._set("comparison_difference", figure.difference, base, about)
            self._set("comparison_ci_low", figure.ci_low, base, about)
            self._set("comparison_ci_high", figure.ci_high, base, about)

    def record(self, report: DriftReport) -> None:
        base: dict[str, str | int] = {
            "rtinfer.model.name": report.model_name,
            "rtinfer.model.version": report.model_version,
            "rtinfer.window.size_s": report.window.size_s,
        }
        self._set("window_predictions", report.counts.predictions, base)
        self._set("window_late", report.counts.late, base)
        for name, feature in report.features.items():
            self._set("feature_psi", feature.psi, base, {"rtinfer.feature": name})
        if report.score is not None:
            self._set("score_psi", report.score.psi, base)
            self._set("score_mean", report.score.mean, base)
        for name, attribution in report.attribution.items():
            self._set("attribution_mean_abs", attribution.mean_abs, base, {"rtinfer.feature": name})
            self._set("attribution_ratio", attribution.ratio, base, {"rtinfer.feature": name})
        performance = report.performance
        self._set("labeled", performance.labeled, base)
        for name in ("roc_auc", "pr_auc", "precision", "recall"):
            self._set(name, getattr(performance, name), base)
        for attribute, bias in report.bias.items():
            for value, figures in bias.values.items():
                about = {"rtinfer.segment.attribute": attribute, "rtinfer.segment.value": value}
                self._set("segment_flag_rate", figures.flag_rate, base, about)
                self._set("segment_fpr", figures.fpr, base, about)
                self._set("segment_tpr", figures.tpr, base, about)
            for statistic in ("flag_rate", "fpr", "tpr"):
                about = {"rtinfer.segment.attribute": attribute, "rtinfer.statistic": statistic}
                self._set("disparity", getattr(bias, f"{statistic}_disparity"), base, about)
        for alert in report.alerts:
            self._alerts.add(1, {**base, "rtinfer.alert.metric": alert.metric})

    def _set(
        self, name: str, value: float | None, base: dict[str, str | int], about: dict[str, str] | None = None
    ) -> None:
        if value is not None:  # an undefined figure keeps its last value rather than a fake 0
            self._gauges[name].set(value, {**base, **(about or {})})
