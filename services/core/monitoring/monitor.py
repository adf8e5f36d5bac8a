"""The monitor: events in, window reports and alerts out (into an outbox), state as plain data.

Pure: no I/O, time comes from the events and an injected clock. Everything but `tick` is a
function of the event sequence alone, so a monitor rebuilt from its state and fed the rest of
a stream ends in the same reports as one that never stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from events import (
    EXPLANATION,
    LABEL,
    PREDICTION,
    Decision,
    Event,
    Explanation,
    Label,
    Prediction,
    drift_alert_event,
    drift_report_event,
)
from services.core.monitoring.alerts import find_alerts
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.outbox import outbox_from_state, outbox_state
from services.core.monitoring.outcomes import LabelJoin, Outcome
from services.core.monitoring.report import ModelReference, build_report
from services.core.monitoring.window import LATE, OTHER_MODEL, WindowAggregate, windows_of

STATE_VERSION = 1


class Observed(StrEnum):
    """What became of one event."""

    COUNTED = "counted"
    DUPLICATE = "duplicate"
    LATE = "late"
    OTHER_MODEL = "other_model"
    LABEL_JOINED = "label_joined"
    LABEL_WAITING = "label_waiting"
    IGNORED = "ignored"


class StateMismatchError(ValueError):
    """A saved state belongs to another model or other window sizes."""


class Monitor:
    """Windows of one model's predictions and explanations, joined to labels."""

    def __init__(
        self,
        model: ModelReference,
        config: MonitorConfig,
        *,
        source: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.model = model
        self.config = config
        self.source = source
        self._clock = clock
        self.windows: dict[tuple[int, int], WindowAggregate] = {}
        self.labels = LabelJoin.empty(config.label_store_max, config.pending_labels_max)
        self.dropped: dict[int, dict[str, int]] = {size: {} for size in config.window_sizes_s}
        self.watermark_s: float | None = None
        self.last_prediction_clock_s: float | None = None
        self.outbox: list[Event[Any]] = []

    def observe(self, event: Event[Any]) -> Observed:
        """Take one decoded event; closing windows put their reports and alerts in `outbox`."""
        if event.type == PREDICTION:
            return self._prediction(event.data, event.time.timestamp())
        if event.type == EXPLANATION:
            return self._explanation(event.data, event.time.timestamp())
        if event.type == LABEL:
            label: Label = event.data
            joined = self.labels.add_label(label.payment_id, label.is_fraud, label.label_time.timestamp())
            return Observed.LABEL_JOINED if joined else Observed.LABEL_WAITING
        return Observed.IGNORED

    def tick(self) -> int:
        """Let event time follow the clock while no prediction arrives (`idle_close_s`), so the
        last windows of a quiet stream close; returns how many windows closed."""
        idle_close_s = self.config.idle_close_s
        if idle_close_s is None or self.watermark_s is None or self.last_prediction_clock_s is None:
            return 0
        now_s = self._clock().timestamp()
        idle_s = now_s - self.last_prediction_clock_s
        if idle_s < idle_close_s:
            return 0
        self.watermark_s += idle_s
        self.last_prediction_clock_s = now_s
        return self._close_due()

    def _prediction(self, prediction: Prediction, time_s: float) -> Observed:
        if not self._is_our_model(prediction.model_name, prediction.model_version):
            return self._drop(time_s, OTHER_MODEL)
        open_windows = self._open_windows(time_s)
        if not open_windows:
            return self._drop(time_s, LATE)
        if prediction.input_id in self.labels:
            for window in open_windows:
                window.duplicates += 1
            return Observed.DUPLICATE
        flagged = prediction.decision is not Decision.APPROVE
        segment = {
            name: prediction.segment[name]
            for name in self.config.segment_attributes
            if name in prediction.segment
        }
        values = {name: use.value for name, use in prediction.features.items()}
        for window in open_windows:
            window.add_prediction(self.model.reference, values, prediction.score, flagged, segment)
        predicted = prediction.score >= prediction.threshold
        self.labels.add_prediction(
            prediction.input_id, Outcome(time_s, prediction.score, predicted, flagged, segment)
        )
        self.last_prediction_clock_s = self._clock().timestamp()
        if self.watermark_s is None or time_s > self.watermark_s:
            self.watermark_s = time_s
            self._close_due()
        return Observed.COUNTED

    def _explanation(self, explanation: Explanation, time_s: float) -> Observed:
        if not self._is_our_model(explanation.model_name, explanation.model_version):
            return self._drop(time_s, OTHER_MODEL)
        reasons = self.config.attribution_reasons
        if reasons and explanation.reason.value not in reasons:
            return Observed.IGNORED
        open_windows = self._open_windows(time_s)
        if not open_windows:
            return self._drop(time_s, LATE)
        added = [
            window.add_explanation(explanation.prediction_id, explanation.contributions)
            for window in open_windows
        ]
        return Observed.COUNTED if any(added) else Observed.DUPLICATE

    def _is_our_model(self, name: str, version: str) -> bool:
        return (name, version) == (self.model.name, self.model.version)

    def _open_windows(self, time_s: float) -> list[WindowAggregate]:
        """The windows `time_s` still counts in (creating them); a closed size counts it late."""
        found = []
        for size, start in windows_of(time_s, self.config.window_sizes_s):
            if self._closed(start + size):
                self._count(size, LATE)
                continue
            window = self.windows.get((size, start))
            if window is None:
                window = self.windows[(size, start)] = WindowAggregate.empty(
                    size, start, self.model.reference
                )
            found.append(window)
        return found

    def _closed(self, end_s: float) -> bool:
        return self.watermark_s is not None and self.watermark_s > end_s + self.config.allowed_lateness_s

    def _drop(self, time_s: float, why: str) -> Observed:
        if why != LATE:  # late ones were counted per size by _open_windows
            for size in self.config.window_sizes_s:
                self._count(size, why)
        return Observed(why)

    def _count(self, size: int, why: str) -> None:
        self.dropped[size][why] = self.dropped[size].get(why, 0) + 1

    def _close_due(self) -> int:
        due = sorted(
            (key for key in self.windows if self._closed(key[0] + key[1])),
            key=lambda key: (key[1] + key[0], key[0]),
        )
        for key in due:
            window = self.windows.pop(key)
            report = build_report(window, self.dropped[window.size_s], self.labels, self.model, self.config)
            self.dropped[window.size_s] = {}
            report = report.model_copy(update={"alerts": find_alerts(report, self.config.alerts)})
            report_event = drift_report_event(report, source=self.source)
            self.outbox.append(report_event)
            self.outbox.extend(
                drift_alert_event(report_event, alert, source=self.source) for alert in report.alerts
            )
        if due and self.watermark_s is not None:
            self.labels.drop_before(self.watermark_s - self.config.label_retention_s)
        return len(due)

    def to_state(self) -> dict[str, Any]:
        """Everything the monitor holds, as JSON-ready data."""
        return {
            "version": STATE_VERSION,
            "model": [self.model.name, self.model.version],
            "window_sizes_s": list(self.config.window_sizes_s),
            "watermark_s": self.watermark_s,
            "last_prediction_clock_s": self.last_prediction_clock_s,
            "windows": [window.to_state() for window in self.windows.values()],
            "dropped": [[size, counts] for size, counts in self.dropped.items()],
            "labels": self.labels.to_state(),
            "outbox": outbox_state(self.outbox),
        }

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        model: ModelReference,
        config: MonitorConfig,
        *,
        source: str,
        clock: Callable[[], datetime],
    ) -> Monitor:
        """A monitor that continues where the one that wrote `state` stopped."""
        if state.get("version") != STATE_VERSION:
            raise StateMismatchError(f"state version {state.get('version')} is not {STATE_VERSION}")
        if state["model"] != [model.name, model.version] or state["window_sizes_s"] != list(
            config.window_sizes_s
        ):
            raise StateMismatchError(
                f"state is of model {state['model']} with windows {state['window_sizes_s']}"
            )
        monitor = cls(model, config, source=source, clock=clock)
        monitor.watermark_s = state["watermark_s"]
        monitor.last_prediction_clock_s = state["last_prediction_clock_s"]
        for saved in state["windows"]:
            window = WindowAggregate.from_state(saved)
            monitor.windows[(window.size_s, window.start_s)] = window
        monitor.dropped = {int(size): dict(counts) for size, counts in state["dropped"]}
        monitor.labels = LabelJoin.from_state(
            state["labels"], config.label_store_max, config.pending_labels_max
        )
        monitor.outbox = outbox_from_state(state["outbox"], StateMismatchError)
        return monitor
