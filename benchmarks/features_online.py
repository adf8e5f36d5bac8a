"""Feast online read latency through rtinfer's adapter (FeastOnlineFeatures.read), per store.

Both stores hold the same materialized repo; requests of 1, 64 and 512 entity rows are sent
one at a time, stores and sizes interleaved round by round so load from anything else on the
machine spreads evenly over them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from benchmarks.latency import Percentiles
from services.adapters.feast.store import FeastOnlineFeatures


@dataclass(frozen=True)
class OnlineTiming:
    store: str
    entities: int
    latency: Percentiles  # ms per read() call

    @property
    def rows_per_s(self) -> float:
        return self.entities / self.latency.p50 * 1000.0


def entity_rows(payments: pd.DataFrame, count: int, rng: random.Random) -> list[dict[str, str]]:
    """`count` (card, merchant) pairs drawn from real payments, so every key exists."""
    pairs = payments[["card_id", "merchant_id"]].astype(str).to_numpy().tolist()
    return [{"card_id": card, "merchant_id": merchant} for card, merchant in rng.choices(pairs, k=count)]


async def time_online_reads(
    readers: dict[str, FeastOnlineFeatures],
    payments: pd.DataFrame,
    sizes: Sequence[int],
    rounds: int,
    budget_s: float,
    seed: int = 7,
) -> list[OnlineTiming]:
    """p50/p95/p99 of read() per store and size; at most `rounds` rounds, stopping after
    `budget_s` (at least 10 rounds). Each (store, size) is warmed up with 5 untimed reads."""
    rng = random.Random(seed)
    requests = {size: [entity_rows(payments, size, rng) for _ in range(16)] for size in sizes}
    for reader in readers.values():
        for size in sizes:
            for rows in requests[size][:5]:
                await reader.read(rows)
    samples: dict[tuple[str, int], list[float]] = {(store, size): [] for store in readers for size in sizes}
    deadline = time.perf_counter() + budget_s
    for round_number in range(rounds):
        if round_number >= 10 and time.perf_counter() > deadline:
            break
        for size in sizes:
            rows = requests[size][round_number % len(requests[size])]
            for store, reader in readers.items():
                started = time.perf_counter()
                found = await reader.read(rows)
                samples[(store, size)].append((time.perf_counter() - started) * 1000.0)
                if len(found) != size:
                    raise RuntimeError(f"{store} returned {len(found)} rows for {size} entities")
    return [OnlineTiming(store, size, Percentiles.of(values)) for (store, size), values in samples.items()]
