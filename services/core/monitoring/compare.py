"""Champion and challenger on the same inputs of one window: the comparison report and its verdict.

Pure and numpy only. The inputs are columns (`PairedScores`); `compare_models` measures both
models on them: ROC AUC, PR AUC and recall at equal alert budget (with paired bootstrap intervals
of the differences), recall and flag rate at each model's own threshold, the PSI of the
challenger's scores against the champion's, the same per segment value; then `decide` checks the
promotion rule. `services.core.monitoring.compare_stream.Comparison` builds the columns from the
event streams; the demo or a notebook can call `compare_models` on arrays directly.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from events.comparison import (
    BootstrapFigures,
    ComparisonCounts,
    MetricComparison,
    ModelComparison,
    SegmentComparison,
)
from services.core.monitoring.compare_metrics import PairedEvents, PairedFigures, paired_intervals
from services.core.monitoring.compare_verdict import ComparedModels, decide
from services.core.monitoring.config import ComparisonConfig
from services.core.monitoring.psi import psi
from services.core.monitoring.ranking import average_precision, precision_recall, roc_auc
from services.core.monitoring.reference import bin_counts, quantile_edges


@dataclass(frozen=True)
class PairedScores:
    """Inputs scored by both models, one entry per input, in any order.

    `label` is 1 (fraud), 0 (legitimate) or -1 (not known yet); a flag is score >= the model's
    own threshold; `segments` maps an attribute to each input's value ("" = absent).
    """

    champion: npt.NDArray[np.float64]
    challenger: npt.NDArray[np.float64]
    champion_flagged: npt.NDArray[np.bool_]
    challenger_flagged: npt.NDArray[np.bool_]
    label: npt.NDArray[np.int8]
    segments: Mapping[str, npt.NDArray[np.str_]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        champion: npt.ArrayLike,
        challenger: npt.ArrayLike,
        *,
        champion_threshold: npt.ArrayLike,
        challenger_threshold: npt.ArrayLike,
        label: npt.ArrayLike,
        segments: Mapping[str, npt.ArrayLike] | None = None,
    ) -> PairedScores:
        """Columns from array-likes; thresholds may be one number or one per input."""
        champion_scores = np.asarray(champion, dtype=np.float64).ravel()
        challenger_scores = np.asarray(challenger, dtype=np.float64).ravel()
        return cls(
            champion=champion_scores,
            challenger=challenger_scores,
            champion_flagged=champion_scores >= np.asarray(champion_threshold, dtype=np.float64),
            challenger_flagged=challenger_scores >= np.asarray(challenger_threshold, dtype=np.float64),
            label=np.asarray(label, dtype=np.int8).ravel(),
            segments={
                name: np.asarray(values, dtype=np.str_).ravel() for name, values in (segments or {}).items()
            },
        )

    def __len__(self) -> int:
        return int(self.champion.shape[0])


@dataclass(frozen=True)
class StreamCounts:
    """What the stream knows beyond the paired inputs (zero when comparing arrays directly)."""

    champion_only: int = 0
    challenger_only: int = 0
    duplicates: int = 0
    late: int = 0


def window_seed(seed: int, models: ComparedModels) -> int:
    """The bootstrap seed of one window and challenger: a function of the setting and of what is
    compared, so a re-evaluated window draws the same resamples and windows do not share them."""
    parts = [
        seed,
        models.window.size_s,
        int(models.window.start.timestamp()),
        zlib.crc32(models.challenger[0].encode()),
    ]
    return int(np.random.SeedSequence(parts).generate_state(1, dtype=np.uint32)[0])


def compare_models(
    paired: PairedScores,
    models: ComparedModels,
    config: ComparisonConfig,
    counts: StreamCounts | None = None,
) -> ModelComparison:
    """The comparison report of `paired`, its verdict included (see the module docstring)."""
    counts = counts or StreamCounts()
    known = paired.label >= 0
    truth, positives = paired.label[known], int((paired.label == 1).sum())
    seed = window_seed(config.seed, models)
    labelled = PairedEvents(
        paired.champion[known], paired.challenger[known], paired.champion_flagged[known], truth == 1
    )
    intervals = paired_intervals(
        labelled,
        config.resamples,
        config.confidence,
        np.random.default_rng(seed),
        config.bootstrap_max_events,
    )
    recall = _metric(*PairedFigures(labelled).point()["recall_at_budget"], intervals["recall_at_budget"])
    segments = _segments(paired, config.segment_attributes)
    return ModelComparison(
        window=models.window,
        champion_name=models.champion[0],
        champion_version=models.champion[1],
        challenger_name=models.challenger[0],
        challenger_version=models.challenger[1],
        counts=ComparisonCounts(
            paired=len(paired),
            labeled=int(known.sum()),
            positives=positives,
            champion_only=counts.champion_only,
            challenger_only=counts.challenger_only,
            duplicates=counts.duplicates,
            late=counts.late,
        ),
        alert_budget=_rate(labelled.champion_flagged),
        roc_auc=_metric(
            roc_auc(truth, labelled.champion), roc_auc(truth, labelled.challenger), intervals["roc_auc"]
        ),
        pr_auc=_metric(
            average_precision(truth, labelled.champion),
            average_precision(truth, labelled.challenger),
            intervals["pr_auc"],
        ),
        recall_at_budget=recall,
        recall_at_threshold=_metric(
            precision_recall(truth, paired.champion_flagged[known])[1],
            precision_recall(truth, paired.challenger_flagged[known])[1],
        ),
        flag_rate=_metric(_rate(paired.champion_flagged), _rate(paired.challenger_flagged)),
        score_psi=_score_psi(paired, config.psi_bins, config.psi_epsilon),
        bootstrap=BootstrapFigures(resamples=config.resamples, confidence=config.confidence, seed=seed),
        segments=segments,
        verdict=decide(models, positives, recall, segments, config.rule, confidence=config.confidence),
    )


def _metric(
    champion: float | None, challenger: float | None, interval: tuple[float, float] | None = None
) -> MetricComparison:
    both = champion is not None and challenger is not None
    return MetricComparison(
        champion=champion,
        challenger=challenger,
        difference=challenger - champion if champion is not None and challenger is not None else None,
        ci_low=interval[0] if interval and both else None,
        ci_high=interval[1] if interval and both else None,
    )


def _rate(flags: npt.NDArray[np.bool_]) -> float | None:
    return float(flags.mean()) if flags.size else None


def _score_psi(paired: PairedScores, bins: int, epsilon: float) -> float | None:
    """PSI of the challenger's scores in the champion's quantile bins (champion = expected)."""
    if not len(paired):
        return None
    edges = quantile_edges(paired.champion, bins)
    expected = bin_counts(edges, paired.champion)
    actual = bin_counts(edges, paired.challenger)
    return psi((expected / expected.sum()).tolist(), actual.tolist(), epsilon)


def _segments(paired: PairedScores, attributes: tuple[str, ...]) -> dict[str, dict[str, SegmentComparison]]:
    found: dict[str, dict[str, SegmentComparison]] = {}
    for attribute in attributes:
        values = paired.segments.get(attribute)
        if values is None:
            continue
        figures = {}
        for value in sorted(set(values.tolist()) - {""}):
            members = values == value
            label = paired.label[members]
            fraud = label == 1
            champion_rate = float(paired.champion_flagged[members].mean())
            challenger_rate = float(paired.challenger_flagged[members].mean())
            figures[value] = SegmentComparison(
                count=int(members.sum()),
                champion_flag_rate=champion_rate,
                challenger_flag_rate=challenger_rate,
                flag_rate_difference=challenger_rate - champion_rate,
                labeled=int((label >= 0).sum()),
                positives=int(fraud.sum()),
                champion_recall=float(paired.champion_flagged[members][fraud].mean())
                if fraud.any()
                else None,
                challenger_recall=float(paired.challenger_flagged[members][fraud].mean())
                if fraud.any()
                else None,
            )
        if figures:
            found[attribute] = figures
    return found
