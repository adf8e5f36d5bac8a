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
    "rtinfer.features.cli",
    "rtinfer.producer.cli",
    "rtinfer.model.cli",
    "rtinfer.monitor.cli",
    "rtinfer.dlq.cli",
    "rtinfer.demo.cli",
    "rtinfer.vectors.cli",
]
# Installed from a checkout (the `bench` extra); absent from the service image.
OPTIONAL_COMMAND_MODULES = {"benchmarks.cli": "benchmarks"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtinfer",
        description="Event-driven real-time inference: Kafka CloudEvents in, "
        "Feast features, KServe model, vector search, predictions and explanations out.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    for module_name, package in OPTIONAL_COMMAND_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != package:
                raise
            continue
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
