"""A closed window's figures as a DriftReport payload (alerts are added by `alerts`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from events.drift import (
    AttributionDrift,
    DriftReport,
    FeatureDrift,
    Performance,
    ScoreDrift,
    WindowCounts,
)
from events.drift_alert import MonitorWindow
from services.core.monitoring.bias import segment_bias
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.outcomes import LabelJoin, Outcome
from services.core.monitoring.psi import psi
from services.core.monitoring.ranking import average_precision, precision_recall, roc_auc
from services.core.monitoring.reference import Reference
from services.core.monitoring.window import LATE, OTHER_MODEL, WindowAggregate


@dataclass(frozen=True)
class ModelReference:
    """The model a monitor watches and its training reference (from metadata.json)."""

    name: str
    version: str
    reference: Reference
    feature_names: tuple[str, ...] = ()


def monitor_window(start_s: float, size_s: int) -> MonitorWindow:
    start = datetime.fromtimestamp(start_s, UTC)
    return MonitorWindow(start=start, end=datetime.fromtimestamp(start_s + size_s, UTC), size_s=size_s)


def build_report(
    window: WindowAggregate,
    dropped: dict[str, int],
    labels: LabelJoin,
    model: ModelReference,
    config: MonitorConfig,
) -> DriftReport:
    """The report of `window`, with labels as known now.

    Args:
        dropped: late and other-model events of this window size since its previous report.
    """
    reference = model.reference
    delay = config.performance_delay_s
    labeled = list(labels.labeled_between(window.start_s - delay, window.end_s - delay))
    return DriftReport(
        window=monitor_window(window.start_s, window.size_s),
        model_name=model.name,
        model_version=model.version,
        counts=WindowCounts(
            predictions=window.predictions,
            explanations=window.explanations,
            flagged=window.flagged,
            duplicates=window.duplicates,
            late=dropped.get(LATE, 0),
            other_model=dropped.get(OTHER_MODEL, 0),
        ),
        features={
            name: FeatureDrift(
                psi=psi(reference.features[name].fractions, counts, config.psi_epsilon),
                count=sum(counts),
                missing=counts[-1],
            )
            for name, counts in sorted(window.feature_counts.items())
        },
        score=_score(window, reference, config.psi_epsilon),
        attribution=_attribution(window, reference),
        performance=_performance(labeled, window, reference, delay),
        bias={
            attribute: segment_bias(
                attribute,
                window.segments.get(attribute, {}),
                labeled,
                min_count=config.segment_min_count,
                min_labeled=config.segment_min_labeled,
            )
            for attribute in config.segment_attributes
        },
    )


def _score(window: WindowAggregate, reference: Reference, epsilon: float) -> ScoreDrift | None:
    if window.predictions == 0:
        return None
    drift = psi(reference.score.fractions, window.score_counts, epsilon) if reference.score else 0.0
    return ScoreDrift(psi=drift, mean=min(1.0, max(0.0, math.fsum(window.score_sum) / window.predictions)))


def _attribution(window: WindowAggregate, reference: Reference) -> dict[str, AttributionDrift]:
    drifts = {}
    for name in sorted(set(reference.attribution) | set(window.attribution_counts)):
        count = window.attribution_counts.get(name, 0)
        if count == 0:
            continue
        mean_abs = math.fsum(window.attribution_sums[name]) / count
        expected = reference.attribution.get(name, 0.0)
        drifts[name] = AttributionDrift(
            mean_abs=mean_abs,
            reference=expected,
            ratio=mean_abs / expected if expected > 0 else None,
            count=count,
        )
    return drifts


def _performance(
    labeled: list[Outcome], window: WindowAggregate, reference: Reference, delay_s: float
) -> Performance:
    truth = np.array([outcome.label for outcome in labeled], dtype=np.int64)
    scores = np.array([outcome.score for outcome in labeled], dtype=np.float64)
    predicted = np.array([outcome.predicted for outcome in labeled], dtype=bool)
    precision, recall = precision_recall(truth, predicted)
    positives = int(truth.sum())
    return Performance(
        window=monitor_window(window.start_s - delay_s, window.size_s),
        labeled=len(labeled),
        positives=positives,
        roc_auc=roc_auc(truth, scores),
        pr_auc=average_precision(truth, scores),
        precision=precision,
        recall=recall,
        positive_rate=positives / len(labeled) if labeled else None,
        reference_positive_rate=reference.positive_rate,
    )
