"""The comparison on the live streams: deciding predictions, shadow predictions and labels joined
by input id, evaluated per tumbling window; comparison reports and verdicts into an outbox.

Pure: no I/O, time comes from the events and an injected clock. Which side a score is on:
a shadow says it (`role`); the deciding prediction is the champion's unless a champion-role
shadow of the same input says a canary challenger decided, or its model is a challenger. Event
time is the largest deciding-prediction time, as in the monitor. A window is evaluated once
event time passes its end + allowed lateness + evaluation delay (label maturity); until then
late scores and labels still count, after it they are late. Each (input, side) counts once, so
redelivered events change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from events import (
    LABEL,
    PREDICTION,
    SHADOW_PREDICTION,
    Event,
    Label,
    Prediction,
    ShadowPrediction,
    ShadowRole,
    comparison_report_event,
    promotion_verdict_event,
)
from services.core.monitoring.compare import StreamCounts, compare_models
from services.core.monitoring.compare_inputs import ScoredInput, pair_up
from services.core.monitoring.compare_verdict import ComparedModels
from services.core.monitoring.config import ComparisonConfig
from services.core.monitoring.outbox import outbox_from_state, outbox_state
from services.core.monitoring.report import monitor_window
from services.core.monitoring.window import LATE, windows_of

STATE_VERSION = 1
DUPLICATE = "duplicate"


class CompareObserved(StrEnum):
    """What became of one event in the comparison."""

    SCORED = "scored"
    DUPLICATE = "duplicate"
    LATE = "late"
    OTHER_MODEL = "other_model"
    LABEL_JOINED = "label_joined"
    LABEL_WAITING = "label_waiting"
    IGNORED = "ignored"


class ComparisonStateMismatch(ValueError):
    """A saved state compares other models or other window sizes."""


class Comparison:
    """Champion and challengers on the same inputs, joined to their labels, window by window."""

    def __init__(self, config: ComparisonConfig, *, source: str, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.source = source
        self._clock = clock
        self.inputs: dict[str, ScoredInput] = {}
        self.pending: dict[str, tuple[int, float]] = {}  # input id -> (is_fraud, label time)
        self.windows: set[tuple[int, int]] = set()  # (size, start) with a score, not yet evaluated
        self.dropped: dict[int, dict[str, int]] = {size: {} for size in config.window_sizes_s}
        self.evicted = 0
        self.watermark_s: float | None = None
        self.last_prediction_clock_s: float | None = None
        self.outbox: list[Event[Any]] = []

    def observe(self, event: Event[Any]) -> CompareObserved:
        """Take one decoded event; evaluated windows put their reports and verdicts in `outbox`."""
        if event.type == PREDICTION:
            return self._prediction(event.data, event.time.timestamp())
        if event.type == SHADOW_PREDICTION:
            return self._shadow(event.data, event.time.timestamp())
        if event.type == LABEL:
            return self._label(event.data)
        return CompareObserved.IGNORED

    def tick(self) -> int:
        """With `idle_close_s` set and no prediction for that long (clock), event time moves on by
        the idle time, so the last windows of a quiet stream are evaluated; returns how many."""
        idle_close_s = self.config.idle_close_s
        if idle_close_s is None or self.watermark_s is None or self.last_prediction_clock_s is None:
            return 0
        now_s = self._clock().timestamp()
        idle_s = now_s - self.last_prediction_clock_s
        if idle_s < idle_close_s:
            return 0
        self.watermark_s += idle_s
        self.last_prediction_clock_s = now_s
        return self._evaluate_due()

    def _prediction(self, prediction: Prediction, time_s: float) -> CompareObserved:
        name = prediction.model_name
        if name != self.config.champion and name not in self.config.challengers:
            return CompareObserved.OTHER_MODEL
        if not self._open_windows(time_s):
            return CompareObserved.LATE
        scored = self._input(prediction.input_id, time_s, prediction.segment)
        if scored.decider is not None:
            return self._duplicate(time_s)
        flagged = prediction.score >= prediction.threshold
        scored.decider = (name, prediction.model_version, prediction.score, flagged)
        scored.time_s = time_s
        self.last_prediction_clock_s = self._clock().timestamp()
        if self.watermark_s is None or time_s > self.watermark_s:
            self.watermark_s = time_s
            self._evaluate_due()
        return CompareObserved.SCORED

    def _shadow(self, shadow: ShadowPrediction, time_s: float) -> CompareObserved:
        if shadow.role is ShadowRole.CHAMPION:
            ours = shadow.model_name == self.config.champion
        else:
            ours = shadow.model_name in self.config.challengers
        if not ours:
            return CompareObserved.OTHER_MODEL
        if not self._open_windows(time_s):
            return CompareObserved.LATE
        scored = self._input(shadow.input_id, time_s, shadow.segment)
        key = f"{shadow.role.value}:{shadow.model_name}"
        if key in scored.shadows:
            return self._duplicate(time_s)
        scored.shadows[key] = (shadow.model_version, shadow.score, shadow.score >= shadow.threshold)
        return CompareObserved.SCORED

    def _label(self, label: Label) -> CompareObserved:
        label_time_s = label.label_time.timestamp()
        scored = self.inputs.get(label.payment_id)
        if scored is not None:
            if scored.label_time_s is None or label_time_s >= scored.label_time_s:
                scored.label, scored.label_time_s = label.is_fraud, label_time_s
            return CompareObserved.LABEL_JOINED
        previous = self.pending.get(label.payment_id)
        if previous is None or label_time_s >= previous[1]:
            self.pending.pop(label.payment_id, None)  # re-inserted: the newest entry
            self.pending[label.payment_id] = (label.is_fraud, label_time_s)
        while len(self.pending) > self.config.pending_labels_max:
            del self.pending[next(iter(self.pending))]
        return CompareObserved.LABEL_WAITING

    def _input(self, input_id: str, time_s: float, segment: Mapping[str, str]) -> ScoredInput:
        scored = self.inputs.get(input_id)
        if scored is None:
            kept = {name: segment[name] for name in self.config.segment_attributes if name in segment}
            scored = self.inputs[input_id] = ScoredInput(time_s, kept)
            waiting = self.pending.pop(input_id, None)
            if waiting is not None:
                scored.label, scored.label_time_s = waiting
            while len(self.inputs) > self.config.store_max:
                del self.inputs[next(iter(self.inputs))]
                self.evicted += 1
        return scored

    def _open_windows(self, time_s: float) -> bool:
        """Register the windows `time_s` still counts in; a size already evaluated counts it late."""
        found = False
        for size, start in windows_of(time_s, self.config.window_sizes_s):
            if self._due(start + size):
                self._count(size, LATE)
            else:
                self.windows.add((size, start))
                found = True
        return found

    def _duplicate(self, time_s: float) -> CompareObserved:
        for size, _start in windows_of(time_s, self.config.window_sizes_s):
            self._count(size, DUPLICATE)
        return CompareObserved.DUPLICATE

    def _count(self, size: int, why: str) -> None:
        self.dropped[size][why] = self.dropped[size].get(why, 0) + 1

    def _due(self, end_s: float) -> bool:
        config = self.config
        return (
            self.watermark_s is not None
            and self.watermark_s > end_s + config.allowed_lateness_s + config.evaluation_delay_s
        )

    def _evaluate_due(self) -> int:
        due = sorted(
            (key for key in self.windows if self._due(key[0] + key[1])), key=lambda key: (sum(key), key[0])
        )
        for size, start in due:
            self.windows.discard((size, start))
            dropped = self.dropped[size]
            self.dropped[size] = {}
            # By input id: the columns, hence the bootstrap draws, do not depend on arrival order.
            inside = [item for item in self.inputs.items() if start <= item[1].time_s < start + size]
            members = [scored for _input_id, scored in sorted(inside, key=lambda item: item[0])]
            for challenger in self.config.challengers:
                self._report(size, start, challenger, members, dropped)
        if due and self.watermark_s is not None:
            horizon_s = self.watermark_s - self.config.retention_s
            for input_id in [key for key, scored in self.inputs.items() if scored.time_s < horizon_s]:
                del self.inputs[input_id]
        return len(due)

    def _report(
        self,
        size: int,
        start: int,
        challenger: str,
        members: Iterable[ScoredInput],
        dropped: Mapping[str, int],
    ) -> None:
        champion = self.config.champion
        pairing = pair_up(members, champion, challenger, self.config.segment_attributes)
        if pairing.empty:
            return
        models = ComparedModels(
            window=monitor_window(start, size),
            champion=(champion, pairing.champion_version),
            challenger=(challenger, pairing.challenger_version),
        )
        counts = StreamCounts(
            pairing.champion_only, pairing.challenger_only, dropped.get(DUPLICATE, 0), dropped.get(LATE, 0)
        )
        report = compare_models(pairing.paired, models, self.config, counts)
        report_event = comparison_report_event(report, source=self.source)
        self.outbox.extend([report_event, promotion_verdict_event(report_event, source=self.source)])

    def to_state(self) -> dict[str, Any]:
        """Everything the comparison holds, as JSON-ready data."""
        return {
            "version": STATE_VERSION,
            "champion": self.config.champion,
            "challengers": list(self.config.challengers),
            "window_sizes_s": list(self.config.window_sizes_s),
            "watermark_s": self.watermark_s,
            "last_prediction_clock_s": self.last_prediction_clock_s,
            "inputs": [[input_id, *scored.to_row()] for input_id, scored in self.inputs.items()],
            "pending": [[input_id, *waiting] for input_id, waiting in self.pending.items()],
            "windows": sorted([size, start] for size, start in self.windows),
            "dropped": [[size, counts] for size, counts in self.dropped.items()],
            "evicted": self.evicted,
            "outbox": outbox_state(self.outbox),
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], config: ComparisonConfig, *, source: str, clock: Callable[[], datetime]
    ) -> Comparison:
        """A comparison that continues where the one that wrote `state` stopped."""
        if state.get("version") != STATE_VERSION:
            raise ComparisonStateMismatch(f"state version {state.get('version')} is not {STATE_VERSION}")
        saved = (state["champion"], state["challengers"], state["window_sizes_s"])
        if saved != (config.champion, list(config.challengers), list(config.window_sizes_s)):
            raise ComparisonStateMismatch(
                f"state compares {saved[0]} with {saved[1]} over windows {saved[2]}"
            )
        comparison = cls(config, source=source, clock=clock)
        comparison.watermark_s = state["watermark_s"]
        comparison.last_prediction_clock_s = state["last_prediction_clock_s"]
        comparison.inputs = {row[0]: ScoredInput.from_row(row[1:]) for row in state["inputs"]}
        comparison.pending = {row[0]: (int(row[1]), float(row[2])) for row in state["pending"]}
        comparison.windows = {(int(size), int(start)) for size, start in state["windows"]}
        comparison.dropped = {int(size): dict(counts) for size, counts in state["dropped"]}
        comparison.evicted = int(state["evicted"])
        comparison.outbox = outbox_from_state(state["outbox"], ComparisonStateMismatch)
        return comparison
