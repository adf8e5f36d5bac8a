"""The `rtinfer` command: one entry point, one sub-command group per area."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes register(subparsers); imported lazily so `--help` stays fast.
COMMAND_MODULES = [
    "rtinfer.stack.cli",
    "rtinfer.datagen.cli",
    "rtinfer.eventscli",
    "benchmarks.cli",
    "rtinfer.features.cli",
    "rtinfer.producer.cli",
    "rtinfer.model.cli",
    "rtinfer.monitor.cli",
    "rtinfer.dlq.cli",
    "rtinfer.demo.cli",
    "rtinfer.vectors.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtinfer",
        description="Event-driven real-time inference: Kafka CloudEvents in, "
        "Feast features, KServe model, vector search, predictions and explanations out.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
