"""Drift and comparison reports as JSON lines: one structured CloudEvent per line (the service
may append, `rtinfer monitor report|compare --from-file` reads)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from events import COMPARISON_REPORT, DRIFT_REPORT, Decoded, Event, decode_kafka
from events.comparison import ModelComparison
from events.drift import DriftReport
from events.wire import STRUCTURED_CONTENT_TYPE, structured_json

_STRUCTURED = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
MAX_REPORT_BYTES = 2**22
REPORT_TYPES = (DRIFT_REPORT, COMPARISON_REPORT)

Records = Iterable[tuple[bytes, Sequence[tuple[str, bytes]]]]


def append_reports(path: Path, events: Sequence[Event[Any]]) -> None:
    """Append the drift and comparison reports among `events` (alerts and verdicts are inside
    their report)."""
    lines = [structured_json(event) + b"\n" for event in events if event.type in REPORT_TYPES]
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(b"".join(lines))


def read_reports(path: Path) -> list[Event[DriftReport]]:
    """Every drift report in the file; lines that are not one are skipped."""
    return decode_reports(_lines(path))


def read_comparisons(path: Path) -> list[Event[ModelComparison]]:
    """Every comparison report in the file; lines that are not one are skipped."""
    return decode_comparisons(_lines(path))


def decode_reports(records: Records) -> list[Event[DriftReport]]:
    """The drift reports among (value, headers) records: one copy per id (the last), ordered by
    window end, then size."""
    found = _latest_by_id(records, DRIFT_REPORT)
    return sorted(found, key=lambda event: (event.data.window.end, event.data.window.size_s))


def decode_comparisons(records: Records) -> list[Event[ModelComparison]]:
    """The comparison reports among (value, headers) records: one copy per id (the last),
    ordered by window end, size, then challenger."""
    found = _latest_by_id(records, COMPARISON_REPORT)
    return sorted(
        found,
        key=lambda event: (event.data.window.end, event.data.window.size_s, event.data.challenger_name),
    )


def _lines(path: Path) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    with path.open("rb") as file:
        return [(line.strip(), _STRUCTURED) for line in file if line.strip()]


def _latest_by_id(records: Records, type_name: str) -> list[Event[Any]]:
    by_id: dict[str, Event[Any]] = {}
    for value, headers in records:
        decoded = decode_kafka(None, value, list(headers), max_bytes=MAX_REPORT_BYTES)
        if isinstance(decoded, Decoded) and decoded.event.type == type_name:
            by_id[decoded.event.id] = decoded.event
    return list(by_id.values())
