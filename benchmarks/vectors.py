"""`rtinfer bench vectors`: micro-batch query latency per query mode, and import rate.

For each backend: import synthetic clustered vectors (vectors/s), then time micro-batches of
queries sent sequentially, concurrently and batched (one request), p50/p99 side by side with
the ratio to sequential, and recall@k of each mode against exact numpy search.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rtinfer.vectors.indexing import index_cases
from rtinfer.vectors.synthetic import CASE_SCHEMA, synthetic_cases, synthetic_queries
from services.adapters.vectors.common import QueryMode
from services.adapters.vectors.knn import exact_knn, recall_at_k
from services.adapters.vectors.settings import Backend, VectorSettings
from services.core.errors import DependencyError
from services.core.ports import Case, FloatMatrix

if TYPE_CHECKING:  # the SDKs load only when a benchmark runs, not when the CLI is built
    from services.adapters.vectors.milvus_index import MilvusLiteIndex
    from services.adapters.vectors.weaviate_index import WeaviateIndex

    Adapter = WeaviateIndex | MilvusLiteIndex


@dataclass(frozen=True)
class Timing:
    backend: str
    mode: str
    batch: int
    rounds: int
    p50_ms: float
    p99_ms: float
    recall: float


@dataclass(frozen=True)
class ImportRate:
    backend: str
    variant: str
    vectors_per_s: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vectors", type=int, default=20_000, help="stored vectors (default 20000)")
    parser.add_argument("--dim", type=int, default=16, help="dimensions (default 16)")
    parser.add_argument("--batch", type=int, default=64, help="queries per micro-batch (default 64)")
    parser.add_argument("-k", "--k", type=int, default=5, help="neighbours per query (default 5)")
    parser.add_argument("--rounds", type=int, default=100, help="micro-batches per mode (default 100)")
    parser.add_argument("--budget-s", type=float, default=60.0, help="time cap per backend (min 10 rounds)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight, concurrent mode")
    parser.add_argument("--import-batch", type=int, default=4000, help="cases per upsert call")
    parser.add_argument("--backends", default="weaviate,milvus", help="comma-separated: weaviate,milvus")
    parser.add_argument("--seed", type=int, default=7)


def run(args: argparse.Namespace) -> int:
    settings = VectorSettings(max_concurrency=args.concurrency, timeout_s=60.0).with_default_schema(
        CASE_SCHEMA
    )
    backends = _backends(args.backends)
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)  # piped output: keep the tables unwrapped
    console.print(
        f"[bold]vectors[/]: {args.vectors} × {args.dim}-d, micro-batch {args.batch}, k={args.k}, "
        f"weaviate at {settings.weaviate_url} (gRPC {settings.weaviate_grpc_port})"
    )
    timings, imports, failures = asyncio.run(_measure_all(args, settings, backends, console))
    _print_timings(console, timings)
    _print_imports(console, imports)
    return 1 if failures == len(backends) else 0


def _backends(text: str) -> list[Backend]:
    chosen: list[Backend] = []
    for name in (part.strip() for part in text.split(",")):
        if name not in ("weaviate", "milvus"):
            raise SystemExit(f"unknown backend {name!r}; choose from weaviate, milvus")
        chosen.append("weaviate" if name == "weaviate" else "milvus")
    return chosen


async def _measure_all(
    args: argparse.Namespace, settings: VectorSettings, backends: list[Backend], console: Console
) -> tuple[list[Timing], list[ImportRate], int]:
    cases, vectors, centres = synthetic_cases(args.vectors, args.dim, args.seed)
    queries = synthetic_queries(centres, max(args.batch * 8, 512), args.seed + 1)
    rows, _ = exact_knn(vectors, queries, args.k)
    expected = [[cases[row].id for row in found] for found in rows]
    timings: list[Timing] = []
    imports: list[ImportRate] = []
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bench-vectors-", ignore_cleanup_errors=True) as scratch:
        for backend in backends:
            scoped = settings.model_copy(
                update={
                    "collection": f"Bench{uuid.uuid4().hex[:10]}",
                    "milvus_path": Path(scratch) / f"{backend}.db",
                }
            )
            try:
                imports += await _imports(args, scoped, backend, cases, vectors)
                timings += await _time_modes(args, scoped, backend, queries, expected)
            except DependencyError as error:
                failures += 1
                console.print(f"[red]{backend} skipped[/]: {error}")
            finally:
                await _drop(scoped, backend)
    return timings, imports, failures


async def _imports(
    args: argparse.Namespace,
    settings: VectorSettings,
    backend: Backend,
    cases: list[Case],
    vectors: FloatMatrix,
) -> list[ImportRate]:
    """Import rate of the default path, and of the alternatives it was chosen over."""
    default = "insert_many ×1000, 2 in flight" if backend == "weaviate" else "upsert + flush"
    rate = await _import(_adapter(settings, backend), args, cases, vectors)
    rates = [ImportRate(backend, f"{default} (default)", rate)]
    if backend == "milvus":
        unflushed = _adapter(
            settings, backend, collection=f"{settings.collection}NoFlush", flush_on_upsert=False
        )
        rate = await _import(unflushed, args, cases, vectors, keep=False)
        rates.append(ImportRate(backend, "upsert, no flush", rate))
    if backend == "weaviate":
        for in_flight in (1, 4):
            scratch = _adapter(
                settings,
                backend,
                collection=f"{settings.collection}I{in_flight}",
                import_concurrency=in_flight,
            )
            rate = await _import(scratch, args, cases, vectors, keep=False)
            rates.append(ImportRate(backend, f"insert_many ×1000, {in_flight} in flight", rate))
    return rates


async def _import(
    index: Adapter,
    args: argparse.Namespace,
    cases: list[Case],
    vectors: FloatMatrix,
    keep: bool = True,
) -> float:
    started = time.perf_counter()
    try:
        await index_cases(index, cases, vectors, args.import_batch, progress=False)
        return len(cases) / (time.perf_counter() - started)
    finally:
        if not keep:
            await index.drop_collection()
        await index.close()


async def _time_modes(
    args: argparse.Namespace,
    settings: VectorSettings,
    backend: Backend,
    queries: FloatMatrix,
    expected: list[list[str]],
) -> list[Timing]:
    """Micro-batch latency per query mode, modes interleaved round by round.

    Interleaving spreads load from anything else on the machine evenly over the modes.
    """
    indexes = {mode: _adapter(settings, backend, query_mode=mode) for mode in QueryMode}
    batches = [queries[start : start + args.batch] for start in range(0, len(queries), args.batch)]
    latencies: dict[QueryMode, list[float]] = {mode: [] for mode in QueryMode}
    try:
        recalls = {
            mode: recall_at_k([[n.id for n in row] for row in await index.search(queries, args.k)], expected)
            for mode, index in indexes.items()  # doubles as the warm-up
        }
        deadline = time.perf_counter() + args.budget_s
        for round_number in range(args.rounds):
            if round_number >= 10 and time.perf_counter() > deadline:
                break
            batch = batches[round_number % len(batches)]
            for mode, index in indexes.items():
                started = time.perf_counter()
                await index.search(batch, args.k)
                latencies[mode].append(time.perf_counter() - started)
    finally:
        for index in indexes.values():
            await index.close()
    timings = []
    for mode, samples in latencies.items():
        p50, p99 = np.percentile(np.asarray(samples) * 1000.0, [50, 99])
        timings.append(
            Timing(backend, str(mode), args.batch, len(samples), float(p50), float(p99), recalls[mode])
        )
    return timings


async def _drop(settings: VectorSettings, backend: Backend) -> None:
    index = _adapter(settings, backend)
    with contextlib.suppress(DependencyError):  # the backend is down; nothing was left behind
        await index.drop_collection()
    await index.close()


def _adapter(settings: VectorSettings, backend: Backend, **changes: Any) -> Adapter:
    """The backend's adapter with some of its settings changed (collection, mode, import)."""
    if backend == "weaviate":
        from services.adapters.vectors.weaviate_index import WeaviateIndex

        return WeaviateIndex(settings.weaviate().model_copy(update=changes), settings.case_schema())
    from services.adapters.vectors.milvus_index import MilvusLiteIndex

    return MilvusLiteIndex(settings.milvus().model_copy(update=changes), settings.case_schema())


def _print_timings(console: Console, timings: list[Timing]) -> None:
    table = Table(title="query latency per micro-batch")
    for column in (
        "backend",
        "mode",
        "rounds",
        "p50 ms",
        "p99 ms",
        "p50 vs sequential",
        "queries/s",
        "recall",
    ):
        table.add_column(column, justify="left" if column in {"backend", "mode"} else "right")
    for timing in timings:
        sequential = next(t for t in timings if t.backend == timing.backend and t.mode == "sequential")
        table.add_row(
            timing.backend,
            timing.mode,
            str(timing.rounds),
            f"{timing.p50_ms:.1f}",
            f"{timing.p99_ms:.1f}",
            f"{sequential.p50_ms / timing.p50_ms:.2f}×",
            f"{timing.batch / timing.p50_ms * 1000:,.0f}",
            f"{timing.recall:.3f}",
        )
    console.print(table)


def _print_imports(console: Console, imports: list[ImportRate]) -> None:
    table = Table(title="import rate")
    for column in ("backend", "variant", "vectors/s"):
        table.add_column(column, justify="right" if column == "vectors/s" else "left")
    for rate in imports:
        table.add_row(rate.backend, rate.variant, f"{rate.vectors_per_s:,.0f}")
    console.print(table)
