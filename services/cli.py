"""The `rtinfer` command: one entry point, one sub-command group per area."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes register(subparsers); imported lazily so `--help` stays fast.
COMMAND_MODULES = [
    "services.stack.cli",
    "services.datagen.cli",
    "services.eventscli",
    "services.bench.cli",
    "services.features.cli",
    "services.producer.cli",
    "services.model.cli",
    "services.monitor.cli",
    "services.dlq.cli",
    "services.demo.cli",
    "services.vectors.cli",
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
