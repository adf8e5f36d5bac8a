"""Per-segment figures and disparity ratios (min / max over segment values with enough events)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from events.drift import SegmentBias, SegmentFigures
from services.core.monitoring.outcomes import Outcome


def disparity(rates: Sequence[float]) -> float | None:
    """min / max of the rates; 1.0 when all are 0 (no difference), None for fewer than two."""
    if len(rates) < 2:
        return None
    highest = max(rates)
    return 1.0 if highest == 0 else min(rates) / highest


def segment_bias(
    attribute: str,
    tallies: Mapping[str, Sequence[int]],
    labeled: Iterable[Outcome],
    *,
    min_count: int,
    min_labeled: int,
) -> SegmentBias:
    """Figures of one segment attribute.

    Args:
        tallies: value -> [predictions, flagged] in the report window.
        labeled: labeled predictions of the performance window (their segment and flag).
        min_count: predictions a value needs to take part in the flag-rate disparity.
        min_labeled: negatives (positives) a value needs to take part in the FPR (TPR) disparity.
    """
    # value -> [negatives, flagged negatives, positives, flagged positives]
    confusion: dict[str, list[int]] = {}
    for outcome in labeled:
        value = outcome.segment.get(attribute)
        if value is None:
            continue
        cell = confusion.setdefault(value, [0, 0, 0, 0])
        offset = 2 if outcome.label == 1 else 0
        cell[offset] += 1
        cell[offset + 1] += int(outcome.flagged)
    figures: dict[str, SegmentFigures] = {}
    for value in sorted(set(tallies) | set(confusion)):
        count, flagged = tallies.get(value, (0, 0))
        negatives, false_positives, positives, true_positives = confusion.get(value, (0, 0, 0, 0))
        figures[value] = SegmentFigures(
            count=count,
            flag_rate=flagged / count if count else 0.0,
            negatives=negatives,
            positives=positives,
            fpr=false_positives / negatives if negatives else None,
            tpr=true_positives / positives if positives else None,
        )
    return SegmentBias(
        values=figures,
        flag_rate_disparity=disparity([f.flag_rate for f in figures.values() if f.count >= min_count]),
        fpr_disparity=disparity(
            [f.fpr for f in figures.values() if f.fpr is not None and f.negatives >= min_labeled]
        ),
        tpr_disparity=disparity(
            [f.tpr for f in figures.values() if f.tpr is not None and f.positives >= min_labeled]
        ),
    )
