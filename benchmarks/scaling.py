"""More than one core: process counts, the topics' partitions, and the scaling table's rows.

N scoring processes share one consumer group, as Knative or KEDA replicas would: Kafka gives
each a share of the payments topic's partitions, so the partitions bound the useful process
count, and an even share needs a partition count divisible by N.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module to parse --processes: keep it light
    from benchmarks.phases import PhaseResult

SCORING = "scoring"  # CPU sample names of the scoring processes: scoring1, scoring2, ...
MIN_PARTITIONS = 3  # the deployment's topics (docs/deploy.md)
EVEN_SHARE_UP_TO = 12  # beyond this many partitions, do not round up for an even share


def process_names(count: int) -> list[str]:
    return [f"{SCORING}{index}" for index in range(1, count + 1)]


def process_counts(text: str) -> list[int]:
    """`--processes`: "2" or "1,2,4" -> sorted distinct counts, each at least 1."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of process counts: {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"process counts must be 1 or more: {text!r}")
    return counts


def topic_partitions(counts: Sequence[int], requested: int | None = None) -> int:
    """Partitions for every bench topic: at least 3 and at least the largest process count.

    By default the smallest such number that every count divides (1,2 -> 4; 1,2,3 -> 6), so
    each process gets an equal share, unless that exceeds 12; then the largest count.

    Args:
        requested: `--partitions`, used as given; ValueError when below the largest count
            (a process would get no partition and idle).
    """
    largest = max(counts, default=1)
    if requested is not None:
        if requested < largest:
            raise ValueError(f"--partitions {requested} is below --processes {largest}: a process would idle")
        return requested
    least = max(MIN_PARTITIONS, largest)
    step = math.lcm(*counts) if counts else 1
    even = -(-least // step) * step
    return even if even <= max(EVEN_SHARE_UP_TO, largest) else least


@dataclass(frozen=True)
class ScalingRow:
    label: str
    processes: int
    rate: float  # backlog events/s
    speedup: float  # rate / the rate with the fewest processes of the same variant
    base_processes: int
    per_process_ms: tuple[float, ...]  # CPU ms per event (all events) of scoring1..N
    scoring_ms: float  # their sum: the scoring CPU one event costs
    all_ms: float  # every sampled process
    scoring_cores: float  # scoring CPU seconds per second of the backlog window

    @property
    def efficiency(self) -> float:
        """Speedup per added process: 1.0 is linear scaling."""
        return self.speedup * self.base_processes / self.processes


def scaling_rows(results: Sequence[PhaseResult]) -> list[ScalingRow]:
    """One row per backlog run as scoring processes, by variant then process count."""
    backlog = sorted(
        (r for r in results if r.kind == "backlog" and r.processes is not None),
        key=lambda r: (r.variant, r.processes or 0),
    )
    rows = []
    for result in backlog:
        count = result.processes or 1
        base = min((r for r in backlog if r.variant == result.variant), key=lambda r: r.processes or 0)
        per_process = tuple(result.cpu_ms_per_event(name) for name in process_names(count))
        scoring_s = sum(value for name, value in result.cpu.items() if name.startswith(SCORING))
        rows.append(
            ScalingRow(
                label=result.label,
                processes=count,
                rate=result.rate,
                speedup=result.rate / base.rate if base.rate else float("nan"),
                base_processes=base.processes or 1,
                per_process_ms=per_process,
                scoring_ms=result.cpu_ms_per_event(SCORING),
                all_ms=result.cpu_ms_per_event(),
                scoring_cores=scoring_s / result.seconds if result.seconds > 0 else float("nan"),
            )
        )
    return rows
