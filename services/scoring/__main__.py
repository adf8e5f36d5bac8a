"""`python -m services.scoring`: the scoring service (Kafka pull and/or HTTP push)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from services.adapters.settings_help import describe_settings


def main(argv: list[str] | None = None) -> int:
    from services.scoring.settings import ScoringSettings

    parser = argparse.ArgumentParser(
        prog="python -m services.scoring",
        description="Score payment CloudEvents: Feast features (freshness checked), KServe model and vector "
        "search per micro-batch; prediction and explanation events out; commit after outputs are acknowledged.",
        epilog=describe_settings(ScoringSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--ingress",
        choices=["kafka", "http", "both"],
        default="both",
        help="kafka: pull from the payments topic; http: Knative push; both (default)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from services.scoring.app import ScoringApp
    from services.scoring.collaborators import StartupError

    settings = ScoringSettings()
    try:
        asyncio.run(ScoringApp(settings, ingress=args.ingress).run_until_signal())
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
