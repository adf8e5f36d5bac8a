"""The monitor (and the champion/challenger comparison, when on) between a consumer and a
publisher: offsets, decoding, the outboxes.

No broker code: records come in client-neutral, reports go out through an injected sink.
The saved state holds the monitor and the next offset of every partition it has read, so a
redelivered record (read again after a restart from an older commit) is recognised and skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from events import COMPARISON_REPORT, DRIFT_REPORT, Decoded, Event, decode_kafka
from events.comparison import ModelComparison
from events.drift import DriftReport
from services.adapters.kafka.records import SourceRecord
from services.core.errors import DependencyError
from services.core.monitoring.compare_stream import Comparison
from services.core.monitoring.monitor import Monitor

log = logging.getLogger("rtinfer.monitor")

ReportSink = Callable[[Sequence[Event[Any]]], Awaitable[None]]
INVALID = "invalid"
SKIPPED = "skipped"
COMPARE_PREFIX = "compare_"  # outcomes of the comparison, beside the monitor's


class MonitorRunner:
    """Feeds records to a monitor (and a comparison) once each and publishes what they report."""

    def __init__(
        self,
        monitor: Monitor,
        sink: ReportSink,
        *,
        offsets: dict[str, int] | None = None,
        max_event_bytes: int = 65536,
        on_report: Callable[[DriftReport], None] | None = None,
        comparison: Comparison | None = None,
        on_comparison: Callable[[ModelComparison], None] | None = None,
    ) -> None:
        self.monitor = monitor
        self.comparison = comparison
        self._on_comparison = on_comparison
        self.offsets: dict[str, int] = dict(offsets or {})
        self._sink = sink
        self._max_bytes = max_event_bytes
        self._on_report = on_report

    def ingest(self, records: Iterable[SourceRecord]) -> Counter[str]:
        """Observe every record not yet in the state; returns how many ended how."""
        outcomes: Counter[str] = Counter()
        for record in records:
            position = f"{record.topic}:{record.partition}"
            if record.offset < self.offsets.get(position, 0):
                outcomes[SKIPPED] += 1
                continue
            self.offsets[position] = record.offset + 1
            decoded = decode_kafka(record.key, record.value, list(record.headers), max_bytes=self._max_bytes)
            if not isinstance(decoded, Decoded):
                where = f"{record.topic}[{record.partition}]@{record.offset}"
                log.warning("%s not decoded (%s): %s", where, decoded.reason, decoded.message)
                outcomes[INVALID] += 1
                continue
            outcomes[self.monitor.observe(decoded.event).value] += 1
            if self.comparison is not None:
                outcomes[COMPARE_PREFIX + self.comparison.observe(decoded.event).value] += 1
        return outcomes

    def tick(self) -> int:
        """Clock-driven closing of idle windows (see Monitor.tick, Comparison.tick)."""
        closed = self.monitor.tick()
        return closed + (self.comparison.tick() if self.comparison is not None else 0)

    def state(self) -> dict[str, Any]:
        """What to save at a commit point: the monitor, the comparison and the offsets they include."""
        state = {"offsets": dict(self.offsets), "monitor": self.monitor.to_state()}
        if self.comparison is not None:
            state["comparison"] = self.comparison.to_state()
        return state

    async def flush(self) -> int:
        """Publish the outbox; on a dependency failure keep it (it is in the saved state) and
        try again later. Returns how many events were published."""
        drift = list(self.monitor.outbox)
        compared = list(self.comparison.outbox) if self.comparison is not None else []
        pending = drift + compared
        if not pending:
            return 0
        try:
            await self._sink(pending)
        except DependencyError as error:
            log.warning("%d report events not published yet, will retry: %s", len(pending), error)
            return 0
        del self.monitor.outbox[: len(drift)]
        if self.comparison is not None:
            del self.comparison.outbox[: len(compared)]
        for event in pending:
            if event.type == DRIFT_REPORT and self._on_report is not None:
                self._on_report(event.data)
            elif event.type == COMPARISON_REPORT and self._on_comparison is not None:
                self._on_comparison(event.data)
        return len(pending)
