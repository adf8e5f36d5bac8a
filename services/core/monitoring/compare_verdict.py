"""The promotion verdict: a comparison's figures checked against the rule, clause by clause."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from events.comparison import (
    MetricComparison,
    PromotionRuleFigures,
    PromotionVerdict,
    RuleClause,
    SegmentComparison,
    Verdict,
)
from events.drift_alert import MonitorWindow
from services.core.monitoring.config import PromotionRule

MAX_NAMED_SEGMENTS = 3


@dataclass(frozen=True)
class ComparedModels:
    """Who is compared, in which window: (name, version) of each side."""

    window: MonitorWindow
    champion: tuple[str, str]
    challenger: tuple[str, str]


def decide(
    models: ComparedModels,
    frauds: int,
    recall: MetricComparison,
    segments: Mapping[str, Mapping[str, SegmentComparison]],
    rule: PromotionRule,
    *,
    confidence: float,
) -> PromotionVerdict:
    """promote when every clause passes; not_enough_evidence below `rule.min_frauds` labelled
    frauds or without an interval for the recall gain; keep otherwise.

    Args:
        frauds: labelled frauds among the inputs both models scored.
        recall: recall at equal alert budget, with the interval of its difference.
        segments: attribute -> value -> both models' figures (flag rates at own thresholds).
        confidence: of the interval, for the wording.
    """
    clauses = [
        _frauds_clause(frauds, rule),
        _gain_clause(recall, rule),
        _interval_clause(recall, confidence),
        _segment_clause(segments, rule),
    ]
    if frauds < rule.min_frauds or recall.ci_low is None:
        verdict = Verdict.NOT_ENOUGH_EVIDENCE
    elif all(clause.passed for clause in clauses):
        verdict = Verdict.PROMOTE
    else:
        verdict = Verdict.KEEP
    return PromotionVerdict(
        window=models.window,
        champion_name=models.champion[0],
        champion_version=models.champion[1],
        challenger_name=models.challenger[0],
        challenger_version=models.challenger[1],
        verdict=verdict,
        labeled_frauds=frauds,
        recall_gain=recall.difference,
        recall_gain_ci_low=recall.ci_low,
        recall_gain_ci_high=recall.ci_high,
        rule=PromotionRuleFigures(**rule.model_dump()),
        clauses=clauses,
        reasons=[f"{'pass' if clause.passed else 'fail'}: {clause.message}" for clause in clauses],
    )


def _frauds_clause(frauds: int, rule: PromotionRule) -> RuleClause:
    passed = frauds >= rule.min_frauds
    relation = "at least" if passed else "fewer than"
    return RuleClause(
        clause="labelled_frauds",
        passed=passed,
        value=float(frauds),
        threshold=float(rule.min_frauds),
        message=f"{frauds} labelled frauds scored by both models, {relation} the {rule.min_frauds} needed",
    )


def _gain_clause(recall: MetricComparison, rule: PromotionRule) -> RuleClause:
    gain = recall.difference
    if gain is None or recall.champion is None or recall.challenger is None:
        message = "recall at equal alert budget is undefined (no labelled fraud)"
        passed = False
    else:
        passed = gain >= rule.min_recall_gain
        message = (
            f"recall at equal alert budget {recall.challenger:.3f} (challenger) vs "
            f"{recall.champion:.3f} (champion): gain {gain:+.3f}, "
            f"{'at least' if passed else 'below'} the {rule.min_recall_gain} required"
        )
    return RuleClause(
        clause="recall_gain", passed=passed, value=gain, threshold=rule.min_recall_gain, message=message
    )


def _interval_clause(recall: MetricComparison, confidence: float) -> RuleClause:
    low, high = recall.ci_low, recall.ci_high
    level = f"{confidence * 100:g} %"
    if low is None or high is None:
        passed, message = False, f"no {level} bootstrap interval of the recall gain (too few labelled frauds)"
    else:
        passed = low > 0
        where = "above 0" if passed else "not above 0"
        message = f"{level} bootstrap interval of the recall gain [{low:+.3f}, {high:+.3f}] is {where}"
    return RuleClause(clause="recall_gain_ci", passed=passed, value=low, threshold=0.0, message=message)


def _segment_clause(
    segments: Mapping[str, Mapping[str, SegmentComparison]], rule: PromotionRule
) -> RuleClause:
    limit = rule.max_segment_flag_rate_increase
    checked = sorted(
        (
            (figures.flag_rate_difference, f"{attribute}={value}", figures)
            for attribute, values in segments.items()
            for value, figures in values.items()
            if figures.count >= rule.segment_min_count
        ),
        key=lambda item: (-item[0], item[1]),
    )
    if not checked:
        return RuleClause(
            clause="segment_flag_rate",
            passed=True,
            value=None,
            threshold=limit,
            message=f"no segment value has the {rule.segment_min_count} paired inputs to be checked",
        )
    worst_increase, worst_name, _ = checked[0]
    failing = [item for item in checked if item[0] > limit]
    if failing:
        named = "; ".join(
            f"{name} {figures.champion_flag_rate:.3f} -> {figures.challenger_flag_rate:.3f} ({increase:+.3f})"
            for increase, name, figures in failing[:MAX_NAMED_SEGMENTS]
        )
        more = f" and {len(failing) - MAX_NAMED_SEGMENTS} more" if len(failing) > MAX_NAMED_SEGMENTS else ""
        message = f"flag rate rises by more than {limit} in {len(failing)} segment value(s): {named}{more}"
    else:
        message = (
            f"no segment value's flag rate rises by more than {limit} "
            f"(worst {worst_name} {worst_increase:+.3f}, {len(checked)} values checked)"
        )
    return RuleClause(
        clause="segment_flag_rate",
        passed=not failing,
        value=worst_increase,
        threshold=limit,
        segment=worst_name[:256],
        message=message[:512],
    )
