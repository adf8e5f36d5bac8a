"""Two models on the same labelled events: ROC AUC, average precision and recall at an equal
alert budget, with weights; and the paired bootstrap of their differences (numpy only).

Weights make a bootstrap resample cheap. A resample is a count per event (how often it was
drawn), and each figure of the resampled events equals the weighted figure of the original
events with those counts: an event drawn twice is a tie with itself. So each model's events are
sorted once, and a resample costs one gather and one cumulative sum per model over the events,
plus work per fraud. The same counts serve both models: the differences are paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
METRICS = ("roc_auc", "pr_auc", "recall_at_budget")
# Elements of one [resamples, events] block: small enough to stay in cache.
CHUNK_ELEMENTS = 2**17


@dataclass(frozen=True)
class Ranked:
    """One model's labelled events sorted once (highest score first, ties kept together)."""

    order: IndexArray  # event index at each sorted position
    group_start: IndexArray  # per sorted position: where its run of tied scores starts
    group_end: IndexArray  # ... and ends (exclusive)
    frauds: IndexArray  # event indices of the frauds, in sorted order
    fraud_start: IndexArray  # per fraud: its tie run's start position
    fraud_end: IndexArray
    frauds_before_start: IndexArray  # per fraud: frauds sorted before its tie run
    frauds_before_end: IndexArray  # per fraud: frauds sorted before its tie run's end
    fraud_positions: IndexArray  # sorted positions of the frauds (ascending)

    @classmethod
    def of(cls, scores: FloatArray, fraud: npt.NDArray[np.bool_]) -> Ranked:
        order = np.argsort(-scores, kind="stable").astype(np.intp)
        ranked = scores[order]
        count = ranked.size
        boundary = np.flatnonzero(np.diff(ranked) != 0) + 1
        starts = np.concatenate(([0], boundary)).astype(np.intp)
        ends = np.concatenate((boundary, [count])).astype(np.intp)
        sizes = ends - starts
        group_start = np.repeat(starts, sizes) if count else np.zeros(0, np.intp)
        group_end = np.repeat(ends, sizes) if count else np.zeros(0, np.intp)
        positions = np.flatnonzero(fraud[order]).astype(np.intp)
        fraud_start, fraud_end = group_start[positions], group_end[positions]
        return cls(
            order=order,
            group_start=group_start,
            group_end=group_end,
            frauds=order[positions],
            fraud_start=fraud_start,
            fraud_end=fraud_end,
            frauds_before_start=np.searchsorted(positions, fraud_start).astype(np.intp),
            frauds_before_end=np.searchsorted(positions, fraud_end).astype(np.intp),
            fraud_positions=positions,
        )


def weighted_figures(ranked: Ranked, weights: FloatArray, budget: FloatArray) -> dict[str, FloatArray]:
    """ROC AUC, average precision and recall at `budget` of one model, per row of `weights`.

    Args:
        weights: [rows, events] non-negative counts (a row of ones = the events as they are).
        budget: per row, how many (weighted) events the model flags: its top-scored ones, a run
            of tied scores at the boundary shared pro rata (the expected recall of a random
            tie-break).

    Returns: name -> [rows] values; NaN where a figure is undefined (no fraud; no legit for AUC).
    """
    rows = weights.shape[0]
    if ranked.order.size == 0:
        return {name: np.full(rows, np.nan) for name in METRICS}
    # counted[:, p] = weight of the first p sorted events; frauds_upto[:, j] = of the first j frauds.
    counted = _prefix_sums(weights[:, ranked.order])
    fraud_weights = weights[:, ranked.frauds]
    frauds_upto = _prefix_sums(fraud_weights)
    total, total_fraud = counted[:, -1], frauds_upto[:, -1]
    total_legit = total - total_fraud
    legit_above = counted[:, ranked.fraud_start] - frauds_upto[:, ranked.frauds_before_start]
    all_upto = counted[:, ranked.fraud_end]
    legit_upto = all_upto - frauds_upto[:, ranked.frauds_before_end]
    with np.errstate(invalid="ignore", divide="ignore"):
        # A fraud beats every legit scored below it, and half of those tied with it.
        wins = (fraud_weights * (total_legit[:, None] - 0.5 * (legit_above + legit_upto))).sum(axis=1)
        roc_auc = np.where(total_fraud * total_legit > 0, wins / (total_fraud * total_legit), np.nan)
        # Precision where the curve reaches each fraud's tied run, weighted by that fraud.
        precision = np.divide(
            frauds_upto[:, ranked.frauds_before_end],
            all_upto,
            out=np.zeros_like(all_upto),
            where=all_upto > 0,
        )
        pr_auc = np.where(total_fraud > 0, (fraud_weights * precision).sum(axis=1) / total_fraud, np.nan)
        recall = _frauds_in_budget(ranked, counted, frauds_upto, budget) / total_fraud
    return {"roc_auc": roc_auc, "pr_auc": pr_auc, "recall_at_budget": recall}


def _prefix_sums(values: FloatArray) -> FloatArray:
    sums = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=sums[:, 1:])
    return sums


def _frauds_in_budget(
    ranked: Ranked, counted: FloatArray, frauds_upto: FloatArray, budget: FloatArray
) -> FloatArray:
    """Weighted frauds among the top `budget` events of each row."""
    rows = np.arange(counted.shape[0])
    # The sorted position where the budget runs out, and the run of tied scores holding it.
    position = np.minimum((counted[:, 1:] < budget[:, None]).sum(axis=1), ranked.order.size - 1)
    start, end = ranked.group_start[position], ranked.group_end[position]
    before, in_run = counted[rows, start], counted[rows, end] - counted[rows, start]
    share = np.divide(
        np.clip(budget - before, 0.0, None), in_run, out=np.zeros_like(budget), where=in_run > 0
    )
    frauds_before = frauds_upto[rows, np.searchsorted(ranked.fraud_positions, start)]
    frauds_in_run = frauds_upto[rows, np.searchsorted(ranked.fraud_positions, end)] - frauds_before
    return frauds_before + frauds_in_run * np.minimum(share, 1.0)


@dataclass(frozen=True)
class PairedEvents:
    """The labelled events both models scored, as columns."""

    champion: FloatArray  # score per event
    challenger: FloatArray
    champion_flagged: npt.NDArray[np.bool_]  # at the champion's own threshold: sets the budget
    fraud: npt.NDArray[np.bool_]  # the label (True = fraud)

    def __post_init__(self) -> None:
        sizes = {self.champion.shape, self.challenger.shape, self.champion_flagged.shape, self.fraud.shape}
        if len(sizes) != 1:
            raise ValueError(f"paired columns differ in shape: {sorted(sizes)}")

    def __len__(self) -> int:
        return int(self.champion.shape[0])

    def subset(self, index: IndexArray) -> PairedEvents:
        return PairedEvents(
            self.champion[index], self.challenger[index], self.champion_flagged[index], self.fraud[index]
        )


class PairedFigures:
    """Both models' figures over weighted copies of the same events (sorted once per model)."""

    def __init__(self, events: PairedEvents) -> None:
        self.events = events
        self._champion = Ranked.of(events.champion, events.fraud)
        self._challenger = Ranked.of(events.challenger, events.fraud)
        self._flags = events.champion_flagged.astype(np.float64)

    def __call__(self, weights: FloatArray) -> dict[str, tuple[FloatArray, FloatArray]]:
        """metric -> (champion, challenger) per row of `weights`; each row's budget is the
        champion's weighted flags: the same alert budget for both models."""
        budget = weights @ self._flags
        champion = weighted_figures(self._champion, weights, budget)
        challenger = weighted_figures(self._challenger, weights, budget)
        return {name: (champion[name], challenger[name]) for name in METRICS}

    def point(self) -> dict[str, tuple[float | None, float | None]]:
        """metric -> (champion, challenger) on the events as they are; None when undefined."""
        figures = self(np.ones((1, len(self.events))))
        return {name: (_value(pair[0][0]), _value(pair[1][0])) for name, pair in figures.items()}


def bootstrap_differences(
    figures: PairedFigures, resamples: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """metric -> [resamples] challenger − champion differences over paired resamples (the same
    drawn events for both models); NaN where a resample leaves the metric undefined."""
    count = len(figures.events)
    if count == 0 or resamples == 0:
        return {name: np.array([]) for name in METRICS}
    found: dict[str, list[FloatArray]] = {name: [] for name in METRICS}
    chunk = max(1, CHUNK_ELEMENTS // count)
    for first in range(0, resamples, chunk):
        rows = min(chunk, resamples - first)
        drawn = rng.integers(0, count, size=(rows, count)) + (np.arange(rows) * count)[:, None]
        weights = np.bincount(drawn.ravel(), minlength=rows * count).reshape(rows, count).astype(np.float64)
        for name, (champion, challenger) in figures(weights).items():
            found[name].append(challenger - champion)
    return {name: np.concatenate(parts) for name, parts in found.items()}


def paired_intervals(
    events: PairedEvents, resamples: int, confidence: float, rng: np.random.Generator, max_events: int
) -> dict[str, tuple[float, float] | None]:
    """metric -> percentile interval of the challenger − champion difference, or None.

    Above `max_events` events the resamples are drawn from a uniform sample of `max_events` of
    them (m out of n): the interval's offsets from that sample's difference are scaled by
    sqrt(m / n) and placed around the full difference, so the cost stays bounded.
    """
    sample, scale = events, 1.0
    full = PairedFigures(events).point() if len(events) > max_events else None
    if full is not None:
        index = np.sort(rng.choice(len(events), size=max_events, replace=False)).astype(np.intp)
        sample, scale = events.subset(index), float(np.sqrt(max_events / len(events)))
    figures = PairedFigures(sample)
    differences = bootstrap_differences(figures, resamples, rng)
    centre = figures.point()
    intervals: dict[str, tuple[float, float] | None] = {}
    for name in METRICS:
        interval = percentile_interval(differences[name], confidence)
        if interval is None or full is None:
            intervals[name] = interval
            continue
        sample_difference, full_difference = _difference(centre[name]), _difference(full[name])
        if sample_difference is None or full_difference is None:
            intervals[name] = None
            continue
        low, high = interval
        intervals[name] = (
            full_difference + scale * (low - sample_difference),
            full_difference + scale * (high - sample_difference),
        )
    return intervals


def percentile_interval(differences: FloatArray, confidence: float) -> tuple[float, float] | None:
    """The central `confidence` percentile interval of the defined differences; None when fewer
    than half of the resamples define the metric (the interval would describe a biased subset)."""
    defined = differences[np.isfinite(differences)]
    if defined.size == 0 or defined.size * 2 < differences.size:
        return None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    return float(low), float(high)


def _difference(pair: tuple[float | None, float | None]) -> float | None:
    champion, challenger = pair
    return None if champion is None or challenger is None else challenger - champion


def _value(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
