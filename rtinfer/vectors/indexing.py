"""Loading labelled cases into a vector index, in batches, with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.core.ports import Case, FloatMatrix, VectorIndexPort


async def index_cases(
    index: VectorIndexPort,
    cases: Sequence[Case],
    vectors: FloatMatrix,
    batch_size: int = 1000,
    progress: bool = True,
) -> int:
    """Ensure the collection, then upsert the cases `batch_size` at a time.

    Args:
        vectors: one embedding row per case, same order.
        progress: show a rich progress bar (off in tests and benchmarks).

    Returns:
        How many cases the index reported written.
    """
    if len(cases) != len(vectors):
        raise ValueError(f"{len(cases)} cases but {len(vectors)} vectors")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    await index.ensure_collection(int(vectors.shape[1]))
    written = 0
    with Progress(
        TextColumn("[bold]indexing cases"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        disable=not progress,
    ) as bar:
        task = bar.add_task("index", total=len(cases), rate="")
        started = time.perf_counter()
        for start in range(0, len(cases), batch_size):
            stop = start + batch_size
            written += await index.upsert(cases[start:stop], vectors[start:stop])
            done = min(stop, len(cases))
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, rate=f"{rate:,.0f} cases/s")
    return written
