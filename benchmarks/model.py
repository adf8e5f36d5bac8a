"""Model server throughput and latency: REST (JSON, binary tensors) vs gRPC, against in process.

One model server child process on this machine, one client request in flight at a time, so the
figures are per-request cost (encode, transport, decode, predict), not a saturation test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtinfer.model.launcher import ModelServerStartError, RunningModelServer, running_model_server
from rtinfer.model.synthetic import synthetic_artifact, synthetic_data
from services.adapters.kserve.client import KServeModelClient
from services.core.ports import ModelPort
from services.model.artifact import ArtifactError, ModelArtifact
from services.model.inprocess import InProcessModel

TRANSPORTS = ("in-process", "rest-json", "rest-binary", "grpc")


@dataclass(frozen=True)
class Measurement:
    transport: str
    batch: int
    requests: int
    seconds: float
    latencies_ms: np.ndarray

    @property
    def rows_per_s(self) -> float:
        return self.batch * self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", type=Path, help="artifact to serve (default: train a synthetic one)")
    parser.add_argument("--model-name", default="fraud", help="served model name (default fraud)")
    parser.add_argument(
        "--batches", default="1,64,512", help="comma-separated batch sizes (default 1,64,512)"
    )
    parser.add_argument("--requests", type=int, default=400, help="timed requests per batch and transport")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic artifact and rows")


def run(args: argparse.Namespace) -> int:
    batches = [int(size) for size in args.batches.split(",") if size.strip()]
    with tempfile.TemporaryDirectory(prefix="rtinfer-bench-model-") as scratch:
        model_dir = args.model_dir or synthetic_artifact(rows=20_000, seed=args.seed).save(
            Path(scratch) / "fraud"
        )
        try:
            artifact = ModelArtifact.load(model_dir)
            with running_model_server(model_dir, model_name=args.model_name) as server:
                results = asyncio.run(_measure_all(server, artifact, args, batches))
        except (ArtifactError, ModelServerStartError) as error:
            print(f"error: {error}")
            return 1
    _report(results, artifact, batches, args)
    return 0


def _ports(server: RunningModelServer, artifact: ModelArtifact, name: str) -> dict[str, ModelPort]:
    return {
        "in-process": InProcessModel(artifact, name),
        "rest-json": KServeModelClient(server.rest_url, name, "rest", 30.0, rest_binary=False),
        "rest-binary": KServeModelClient(server.rest_url, name, "rest", 30.0, rest_binary=True),
        "grpc": KServeModelClient(server.grpc_target, name, "grpc", 30.0),
    }


async def _measure_all(
    server: RunningModelServer, artifact: ModelArtifact, args: argparse.Namespace, batches: Sequence[int]
) -> list[Measurement]:
    count, width = max(batches) * 8, len(artifact.feature_names)
    features = synthetic_data(count, seed=args.seed + 1).features
    if features.shape[1] != width:  # a --model-dir artifact with other features
        features = np.random.default_rng(args.seed).normal(size=(count, width))
    rows = features.astype(np.float32)
    ports = _ports(server, artifact, args.model_name)
    results = []
    try:
        for batch in batches:
            for transport in TRANSPORTS:
                results.append(await _measure(ports[transport], transport, rows, batch, args))
    finally:
        for port in ports.values():
            await port.close()
    return results


async def _measure(
    port: ModelPort, transport: str, rows: np.ndarray, batch: int, args: argparse.Namespace
) -> Measurement:
    slices = [rows[(index * batch) % (len(rows) - batch + 1) :][:batch] for index in range(args.requests)]
    for features in slices[: args.warmup]:
        await port.predict(features)
    latencies = np.empty(len(slices))
    started = time.perf_counter()
    for index, features in enumerate(slices):
        sent = time.perf_counter()
        await port.predict(features)
        latencies[index] = (time.perf_counter() - sent) * 1000.0
    return Measurement(transport, batch, len(slices), time.perf_counter() - started, latencies)


def _report(
    results: list[Measurement], artifact: ModelArtifact, batches: Sequence[int], args: argparse.Namespace
) -> None:
    print(
        f"model {args.model_name} version {artifact.version}: {len(artifact.feature_names)} features, "
        f"{artifact.booster.num_trees()} trees; server: 1 REST worker + gRPC, one request in flight"
    )
    print(f"{'batch':>6} {'transport':<12} {'requests':>8} {'rows/s':>12} {'p50 ms':>8} {'p99 ms':>8}")
    for result in results:
        print(
            f"{result.batch:>6} {result.transport:<12} {result.requests:>8} {result.rows_per_s:>12,.0f} "
            f"{result.percentile(50):>8.3f} {result.percentile(99):>8.3f}"
        )
    by_key = {(result.transport, result.batch): result for result in results}
    ratios = [
        ("grpc / rest-binary rows/s", "grpc", "rest-binary", "rows"),
        ("grpc / rest-json rows/s", "grpc", "rest-json", "rows"),
        ("rest-binary / rest-json rows/s", "rest-binary", "rest-json", "rows"),
        ("grpc p50 / rest-binary p50", "grpc", "rest-binary", "p50"),
        ("in-process / grpc rows/s", "in-process", "grpc", "rows"),
    ]
    print()
    print(f"{'ratio':<32}" + "".join(f"{f'batch {batch}':>12}" for batch in batches))
    for label, top, bottom, kind in ratios:
        cells = []
        for batch in batches:
            upper, lower = by_key[(top, batch)], by_key[(bottom, batch)]
            if kind == "rows":
                cells.append(upper.rows_per_s / lower.rows_per_s)
            else:
                cells.append(upper.percentile(50) / lower.percentile(50))
        print(f"{label:<32}" + "".join(f"{cell:>11.2f}x" for cell in cells))
