"""Figures from consumed records: event -> output latency by Kafka timestamps, rates, stages.

Latency is the output record's timestamp minus its input record's (both producer-side
CreateTime in milliseconds, on this one machine), matched by event id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.kafka_io import OutRecord

STAGES = ("enrich", "model", "vectors", "decide", "total")


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> Percentiles:
        values = np.fromiter(samples, dtype=np.float64)
        if not len(values):
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        return cls(len(values), float(p50), float(p95), float(p99), float(values.max()))


def header_text(record: OutRecord, name: str) -> str | None:
    value = record.headers.get(name)
    return value.decode() if value is not None else None


def latencies_ms(inputs: Sequence[OutRecord], outputs: Sequence[OutRecord], link_header: str) -> list[float]:
    """One latency per input that has an output; the first output counts (redeliveries repeat ids).

    Args:
        link_header: the output header holding the input's ce_id (ce_causationid for a
            prediction, ce_id for an echoed record).
    """
    sent = {header_text(record, "ce_id"): record.timestamp_ms for record in inputs}
    first: dict[str, int] = {}
    for record in outputs:
        link = header_text(record, link_header)
        if link in sent and link is not None:
            first[link] = min(record.timestamp_ms, first.get(link, record.timestamp_ms))
    return [float(stamp - sent[link]) for link, stamp in first.items()]


def window_s(records: Sequence[OutRecord]) -> tuple[float, float]:
    """First and last timestamp, in unix seconds."""
    stamps = [record.timestamp_ms for record in records]
    return min(stamps) / 1000.0, max(stamps) / 1000.0


def rate_per_s(records: Sequence[OutRecord]) -> float:
    """Records per second between the first and the last one's timestamp."""
    if len(records) < 2:
        return float("nan")
    first, last = window_s(records)
    return len(records) / max(last - first, 1e-3)


def stage_percentiles(predictions: Sequence[OutRecord]) -> dict[str, Percentiles]:
    """Per-stage ms from each prediction's latency_ms (its micro-batch's timings)."""
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for record in predictions:
        timings = json.loads(record.value).get("latency_ms", {})
        for stage in STAGES:
            if stage in timings:
                samples[stage].append(float(timings[stage]))
    return {stage: Percentiles.of(values) for stage, values in samples.items()}


class StageLog:
    """Stage timings recorded in process, each weighted by the events it covered."""

    def __init__(self) -> None:
        self._samples: dict[str, list[tuple[float, int]]] = {}

    def add(self, stage_ms: dict[str, float], events: int = 1) -> None:
        for stage, ms in stage_ms.items():
            self._samples.setdefault(stage, []).append((ms, events))

    def take(self) -> dict[str, Percentiles]:
        """Per-event percentiles of everything recorded since the last take, then forget it."""
        samples, self._samples = self._samples, {}
        return {
            stage: Percentiles.of(np.repeat([ms for ms, _ in pairs], [events for _, events in pairs]))
            for stage, pairs in samples.items()
        }
