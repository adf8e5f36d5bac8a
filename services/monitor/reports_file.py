"""Drift reports as JSON lines: one structured CloudEvent per line (the service may append,
`rtinfer monitor report --from-file` reads)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from events import DRIFT_REPORT, Decoded, Event, decode_kafka
from events.drift import DriftReport
from events.wire import STRUCTURED_CONTENT_TYPE, structured_json

_STRUCTURED = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
MAX_REPORT_BYTES = 2**22


def append_reports(path: Path, events: Sequence[Event[Any]]) -> None:
    """Append the drift reports among `events` (alerts are inside their report)."""
    lines = [structured_json(event) + b"\n" for event in events if event.type == DRIFT_REPORT]
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(b"".join(lines))


def read_reports(path: Path) -> list[Event[DriftReport]]:
    """Every drift report in the file; lines that are not one are skipped."""
    with path.open("rb") as file:
        return decode_reports((line.strip(), _STRUCTURED) for line in file if line.strip())


def decode_reports(records: Iterable[tuple[bytes, Sequence[tuple[str, bytes]]]]) -> list[Event[DriftReport]]:
    """The drift reports among (value, headers) records: one copy per id (the last), ordered by
    window end, then size."""
    by_id: dict[str, Event[DriftReport]] = {}
    for value, headers in records:
        decoded = decode_kafka(None, value, list(headers), max_bytes=MAX_REPORT_BYTES)
        if isinstance(decoded, Decoded) and decoded.event.type == DRIFT_REPORT:
            by_id[decoded.event.id] = decoded.event
    return sorted(by_id.values(), key=lambda event: (event.data.window.end, event.data.window.size_s))
