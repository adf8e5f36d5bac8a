"""The `rtinfer bench` command group: benchmarks that print figures (never timed tests)."""

from __future__ import annotations

import argparse
import importlib

# name -> (module with add_arguments(parser) and run(args) -> int, help)
BENCHMARKS = {
    "codec": ("services.bench.codec", "CloudEvent decode+validate and encode throughput"),
}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = commands.add_parser("bench", help="benchmarks that print figures")
    kinds = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, (module_name, help_text) in BENCHMARKS.items():
        parser = kinds.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(parser)
        parser.set_defaults(handler=module.run)
