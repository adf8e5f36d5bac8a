"""The label join: recent predictions by payment id, and labels that came before them.

Bounded twice: predictions older than the retention (behind the watermark) are dropped when a
window closes, and each map keeps at most a fixed number of entries, oldest inserted out first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Outcome:
    """What the performance and bias figures need from one prediction, and its label once known."""

    time_s: float
    score: float
    predicted: bool  # score >= the prediction's threshold
    flagged: bool  # decision != approve
    segment: dict[str, str]
    label: int | None = None
    label_time_s: float | None = None

    def to_row(self) -> list[Any]:
        return [
            self.time_s,
            self.score,
            self.predicted,
            self.flagged,
            self.segment,
            self.label,
            self.label_time_s,
        ]


@dataclass
class LabelJoin:
    """Predictions by payment id (for labels to find) and labels waiting for their prediction."""

    max_outcomes: int
    max_pending: int
    outcomes: dict[str, Outcome]
    pending: dict[str, tuple[int, float]]  # payment id -> (is_fraud, label time)
    evicted: int = 0

    @classmethod
    def empty(cls, max_outcomes: int, max_pending: int) -> LabelJoin:
        return cls(max_outcomes, max_pending, {}, {})

    def __contains__(self, payment_id: str) -> bool:
        return payment_id in self.outcomes

    def add_prediction(self, payment_id: str, outcome: Outcome) -> None:
        """Keep one prediction; a label that arrived before it is joined now."""
        waiting = self.pending.pop(payment_id, None)
        if waiting is not None:
            outcome.label, outcome.label_time_s = waiting
        self.outcomes[payment_id] = outcome
        while len(self.outcomes) > self.max_outcomes:
            del self.outcomes[next(iter(self.outcomes))]
            self.evicted += 1

    def add_label(self, payment_id: str, is_fraud: int, label_time_s: float) -> bool:
        """Join a label to its prediction (True) or keep it waiting (False); the latest label wins."""
        outcome = self.outcomes.get(payment_id)
        if outcome is not None:
            if outcome.label_time_s is None or label_time_s >= outcome.label_time_s:
                outcome.label, outcome.label_time_s = is_fraud, label_time_s
            return True
        previous = self.pending.get(payment_id)
        if previous is None or label_time_s >= previous[1]:
            self.pending.pop(payment_id, None)  # re-insert: a fresh label is the newest entry
            self.pending[payment_id] = (is_fraud, label_time_s)
        while len(self.pending) > self.max_pending:
            del self.pending[next(iter(self.pending))]
        return False

    def labeled_between(self, start_s: float, end_s: float) -> Iterator[Outcome]:
        """Labeled predictions made in [start_s, end_s)."""
        for outcome in self.outcomes.values():
            if outcome.label is not None and start_s <= outcome.time_s < end_s:
                yield outcome

    def drop_before(self, horizon_s: float) -> None:
        """Forget predictions made before `horizon_s`: no report can need them any more."""
        stale = [payment_id for payment_id, outcome in self.outcomes.items() if outcome.time_s < horizon_s]
        for payment_id in stale:
            del self.outcomes[payment_id]

    def to_state(self) -> dict[str, Any]:
        return {
            "outcomes": [[payment_id, *outcome.to_row()] for payment_id, outcome in self.outcomes.items()],
            "pending": [[payment_id, *waiting] for payment_id, waiting in self.pending.items()],
            "evicted": self.evicted,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], max_outcomes: int, max_pending: int) -> LabelJoin:
        outcomes = {row[0]: Outcome(*row[1:]) for row in state["outcomes"]}
        pending = {row[0]: (int(row[1]), float(row[2])) for row in state["pending"]}
        return cls(max_outcomes, max_pending, outcomes, pending, int(state["evicted"]))
