"""Reading locust's `<prefix>_stats.csv`: request counts, failures and percentiles per name."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RequestStats:
    """One row of the stats CSV (times in milliseconds)."""

    request_type: str
    name: str
    requests: int
    failures: int
    median_ms: float | None
    p99_ms: float | None
    requests_per_s: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def read_stats(path: Path) -> dict[str, RequestStats]:
    """Rows by request name ("Aggregated" included)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row["Name"]: _parse(row) for row in rows}


def _parse(row: dict[str, str]) -> RequestStats:
    return RequestStats(
        request_type=row["Type"],
        name=row["Name"],
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        median_ms=_number(row["50%"]),
        p99_ms=_number(row["99%"]),
        requests_per_s=float(row["Requests/s"]),
    )


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def describe(stats: RequestStats) -> str:
    median = f"{stats.median_ms:.0f}" if stats.median_ms is not None else "n/a"
    p99 = f"{stats.p99_ms:.0f}" if stats.p99_ms is not None else "n/a"
    return (
        f"{stats.name}: {stats.requests} requests, {stats.failures} failed "
        f"({stats.failure_ratio:.2%}), p50 {median} ms, p99 {p99} ms, {stats.requests_per_s:.0f}/s"
    )
