"""`python -m services.monitor`: the drift and bias monitor."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from services.adapters.settings_help import describe_settings


def main(argv: list[str] | None = None) -> int:
    from services.monitor.settings import MonitorSettings

    parser = argparse.ArgumentParser(
        prog="python -m services.monitor",
        description="Consume prediction, explanation and label CloudEvents; per tumbling event-time "
        "window report feature/score/attribution drift (PSI against the model's training "
        "reference), performance over joined labels and per-segment bias; emit drift reports "
        "and alerts; with challengers set, compare them with the champion on the same labelled inputs "
        "(shadow predictions) and emit comparison reports and promotion verdicts; expose every "
        "figure as an OpenTelemetry gauge.",
        epilog=describe_settings(MonitorSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model-dir", type=Path, help="model artifact with metadata.json (overrides the env)"
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    overrides = {"model_dir": args.model_dir} if args.model_dir else {}
    settings = MonitorSettings(**overrides)
    from services.monitor.app import MonitorApp
    from services.monitor.artifact import ArtifactError

    try:
        app = MonitorApp(settings)
    except ArtifactError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    asyncio.run(app.run_until_signal())
    return 0


if __name__ == "__main__":
    sys.exit(main())
