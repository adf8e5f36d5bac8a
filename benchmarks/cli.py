"""The `rtinfer bench` command group: benchmarks that print figures (never timed tests)."""

from __future__ import annotations

import argparse
import importlib

# name -> (module with add_arguments(parser) and run(args) -> int, help)
BENCHMARKS = {
    "codec": ("benchmarks.codec", "CloudEvent decode+validate and encode throughput"),
    "features": ("benchmarks.features", "feature writer throughput/lag, Feast online latency"),
    "model": ("benchmarks.model", "model server rows/s and latency, REST vs gRPC"),
    "vectors": ("benchmarks.vectors", "vector query p50/p99, sequential vs concurrent"),
    "pipeline": ("benchmarks.pipeline", "echo vs naive vs rtinfer scoring pipeline"),
}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = commands.add_parser("bench", help="benchmarks that print figures")
    kinds = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, (module_name, help_text) in BENCHMARKS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # that benchmark is not part of this build yet
        parser = kinds.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(parser)
        parser.set_defaults(handler=module.run)
