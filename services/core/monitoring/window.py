"""One tumbling window's running aggregates: bin counts, sums and tallies, nothing per event.

Time is float seconds since the epoch (UTC); windows are aligned to the epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.core.monitoring.reference import Reference, bin_index

LATE = "late"
OTHER_MODEL = "other_model"


def add_exact(partials: list[float], value: float) -> None:
    """Add `value` to an exact running sum kept as non-overlapping partials (Shewchuk, as in
    math.fsum); `math.fsum(partials)` is then the correctly rounded total whatever the order
    the values came in, so reports do not depend on how partitions interleave."""
    kept = 0
    for partial in partials:
        big, small = (partial, value) if abs(value) < abs(partial) else (value, partial)
        high = big + small
        low = small - (high - big)
        if low:
            partials[kept] = low
            kept += 1
        value = high
    partials[kept:] = [value]


def window_start(time_s: float, size_s: int) -> int:
    """Start of the window of `size_s` seconds that holds `time_s`."""
    return math.floor(time_s / size_s) * size_s


@dataclass
class WindowAggregate:
    """What one window has seen so far."""

    size_s: int
    start_s: int
    predictions: int = 0
    flagged: int = 0
    duplicates: int = 0
    explanations: int = 0
    score_sum: list[float] = field(default_factory=list)  # exact partials, see add_exact
    score_counts: list[int] = field(default_factory=list)
    feature_counts: dict[str, list[int]] = field(default_factory=dict)
    attribution_sums: dict[str, list[float]] = field(default_factory=dict)  # exact partials
    attribution_counts: dict[str, int] = field(default_factory=dict)
    segments: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # attr -> value -> [n, flagged]
    explained: set[str] = field(default_factory=set)  # prediction ids, to count each explanation once

    @property
    def end_s(self) -> int:
        return self.start_s + self.size_s

    @classmethod
    def empty(cls, size_s: int, start_s: int, reference: Reference) -> WindowAggregate:
        return cls(
            size_s=size_s,
            start_s=start_s,
            score_counts=[0] * (len(reference.score.fractions) if reference.score else 0),
            feature_counts={name: [0] * len(bins.fractions) for name, bins in reference.features.items()},
        )

    def add_prediction(
        self,
        reference: Reference,
        values: Mapping[str, float | None],
        score: float,
        flagged: bool,
        segment: Mapping[str, str],
    ) -> None:
        """Count one prediction: `values` by feature name (absent = missing)."""
        self.predictions += 1
        self.flagged += int(flagged)
        add_exact(self.score_sum, score)
        if reference.score is not None:
            self.score_counts[bin_index(reference.score.edges, score)] += 1
        for name, bins in reference.features.items():
            self.feature_counts[name][bin_index(bins.edges, values.get(name))] += 1
        for attribute, value in segment.items():
            tally = self.segments.setdefault(attribute, {}).setdefault(value, [0, 0])
            tally[0] += 1
            tally[1] += int(flagged)

    def add_explanation(self, prediction_id: str, contributions: Mapping[str, float]) -> bool:
        """Add one explanation's |contributions|; False when it was already counted."""
        if prediction_id in self.explained:
            self.duplicates += 1
            return False
        self.explained.add(prediction_id)
        self.explanations += 1
        for name, contribution in contributions.items():
            add_exact(self.attribution_sums.setdefault(name, []), abs(contribution))
            self.attribution_counts[name] = self.attribution_counts.get(name, 0) + 1
        return True

    def to_state(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["explained"] = sorted(self.explained)
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> WindowAggregate:
        return cls(**{**state, "explained": set(state["explained"])})


def windows_of(time_s: float, sizes: Iterable[int]) -> list[tuple[int, int]]:
    """(size, start) of the window of each size that holds `time_s`."""
    return [(size, window_start(time_s, size)) for size in sizes]
