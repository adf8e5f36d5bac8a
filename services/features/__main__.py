"""`python -m services.features`: the streaming feature writer."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from services.adapters.settings_help import describe_settings


def main(argv: list[str] | None = None) -> int:
    from services.features.settings import FeatureWriterSettings

    parser = argparse.ArgumentParser(
        prog="python -m services.features",
        description="Consume payment CloudEvents, keep rolling card aggregates (idempotent by "
        "event id), push them to the Feast online store, commit after the push.",
        epilog=describe_settings(FeatureWriterSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = FeatureWriterSettings()
    from services.features.app import FeatureWriterApp

    asyncio.run(FeatureWriterApp(settings).run_until_signal())
    return 0


if __name__ == "__main__":
    sys.exit(main())
