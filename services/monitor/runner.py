"""The monitor between a consumer and a publisher: offsets, decoding, the outbox.

No broker code: records come in client-neutral, reports go out through an injected sink.
The saved state holds the monitor and the next offset of every partition it has read, so a
redelivered record (read again after a restart from an older commit) is recognised and skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from events import DRIFT_REPORT, Decoded, Event, decode_kafka
from events.drift import DriftReport
from services.adapters.kafka.records import SourceRecord
from services.core.errors import DependencyError
from services.core.monitoring.monitor import Monitor

log = logging.getLogger("rtinfer.monitor")

ReportSink = Callable[[Sequence[Event[Any]]], Awaitable[None]]
INVALID = "invalid"
SKIPPED = "skipped"


class MonitorRunner:
    """Feeds records to a monitor once each and publishes what it reports."""

    def __init__(
        self,
        monitor: Monitor,
        sink: ReportSink,
        *,
        offsets: dict[str, int] | None = None,
        max_event_bytes: int = 65536,
        on_report: Callable[[DriftReport], None] | None = None,
    ) -> None:
        self.monitor = monitor
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
        return outcomes

    def tick(self) -> int:
        """Clock-driven closing of idle windows (see Monitor.tick)."""
        return self.monitor.tick()

    def state(self) -> dict[str, Any]:
        """What to save at a commit point: the monitor and the offsets it includes."""
        return {"offsets": dict(self.offsets), "monitor": self.monitor.to_state()}

    async def flush(self) -> int:
        """Publish the outbox; on a dependency failure keep it (it is in the saved state) and
        try again later. Returns how many events were published."""
        pending = list(self.monitor.outbox)
        if not pending:
            return 0
        try:
            await self._sink(pending)
        except DependencyError as error:
            log.warning("%d report events not published yet, will retry: %s", len(pending), error)
            return 0
        del self.monitor.outbox[: len(pending)]
        if self._on_report is not None:
            for event in pending:
                if event.type == DRIFT_REPORT:
                    self._on_report(event.data)
        return len(pending)
