"""The scoring service's metrics, named after OpenTelemetry messaging conventions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from services.core.scoring.pipeline import BatchResult, ScoringItem


class ScoringMetrics:
    def __init__(self, meter: Meter) -> None:
        self.consumed = meter.create_counter(
            "messaging.client.consumed.messages", unit="{message}", description="input events read"
        )
        self.produced = meter.create_counter(
            "messaging.client.sent.messages", unit="{message}", description="prediction events sent"
        )
        self.dead_lettered = meter.create_counter("rtinfer.dlq.messages", unit="{message}")
        self.degraded = meter.create_counter("rtinfer.predictions.degraded", unit="{message}")
        self.breaker_open = meter.create_counter("rtinfer.breaker.rejections", unit="{batch}")
        self.poison = meter.create_counter("rtinfer.scoring.poison", unit="{message}")
        self.batch_failures = meter.create_counter("rtinfer.scoring.batch_failures", unit="{batch}")
        self.batch_size = meter.create_histogram("messaging.batch.message_count", unit="{message}")
        self.stage_latency = meter.create_histogram("rtinfer.stage.duration", unit="ms")
        self.end_to_end = meter.create_histogram(
            "rtinfer.event_to_prediction.duration", unit="s", description="event time to prediction"
        )
        self.shadow_produced = meter.create_counter(
            "rtinfer.shadow.predictions", unit="{message}", description="shadow predictions sent"
        )
        self.shadow_missing = meter.create_counter(
            "rtinfer.shadow.missing",
            unit="{message}",
            description="inputs a challenger gave no score for, by model and reason",
        )
        self.canary_decided = meter.create_counter(
            "rtinfer.canary.decided",
            unit="{message}",
            description="predictions the canary challenger decided",
        )
        self._meter = meter

    def observe(
        self, name: str, read: Callable[[], dict[tuple[tuple[str, str], ...], float]], unit: str
    ) -> None:
        """An observable gauge read at collection time (lag, breaker state, explanation counters)."""

        def callback(_options: CallbackOptions) -> list[Observation]:
            return [Observation(value, dict(labels)) for labels, value in read().items()]

        self._meter.create_observable_gauge(name, callbacks=[callback], unit=unit)

    def record_batch(self, batch: BatchResult, items: Sequence[ScoringItem], now: datetime) -> None:
        self.consumed.add(len(items))
        self.batch_size.record(len(items))
        self.produced.add(len(batch.scored))
        if batch.degraded:
            self.degraded.add(batch.degraded)
        for (model, reason), rows in batch.shadow_missing.items():
            self.shadow_missing.add(rows, {"model": model, "reason": reason})
        if batch.canary_decided:
            self.canary_decided.add(batch.canary_decided)
        shadows = sum(len(scored.shadows) for scored in batch.scored)
        if shadows:
            self.shadow_produced.add(shadows)
        for stage, ms in batch.stage_ms.items():
            self.stage_latency.record(ms, {"stage": stage})
        for scored in batch.scored:
            self.end_to_end.record(max((now - scored.item.event.time).total_seconds(), 0.0))
