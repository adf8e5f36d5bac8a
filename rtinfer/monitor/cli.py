"""`rtinfer monitor report` and `rtinfer monitor compare`: the latest drift reports, and the
latest champion/challenger comparisons with their verdicts, as tables and PNG plots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = Path("var/monitor/report.png")
DEFAULT_COMPARE_OUT = Path("var/monitor/compare.png")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    monitor = commands.add_parser(
        "monitor",
        help="drift and bias monitoring: render the latest drift reports and comparisons",
        description="Work with the monitor's drift and comparison reports (service: python -m "
        "services.monitor).",
    )
    actions = monitor.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = actions.add_parser(
        "report",
        help="table + PNG plot of the latest drift reports",
        description="Read the latest drift reports from the monitoring topic (or a JSON-lines file "
        "the service wrote with RTINFER_MONITOR_REPORTS_FILE), print a table and plot PSI per "
        "feature, score PSI and AUC over the windows.",
    )
    _source_arguments(report)
    report.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"PNG path (default: {DEFAULT_OUT})")
    report.set_defaults(handler=_report)
    compare = actions.add_parser(
        "compare",
        help="table + PNG plot of the latest champion/challenger comparisons and verdicts",
        description="Read the latest comparison reports from the monitoring topic (or a JSON-lines "
        "file the service wrote with RTINFER_MONITOR_REPORTS_FILE), print a table (champion -> "
        "challenger per figure, the difference and its bootstrap interval, the verdict) and the "
        "reasons of the latest verdict, and plot the figures per window with their intervals.",
    )
    _source_arguments(compare)
    compare.add_argument("--challenger", help="only this challenger (default: every one present)")
    compare.add_argument(
        "--out", type=Path, default=DEFAULT_COMPARE_OUT, help=f"PNG path (default: {DEFAULT_COMPARE_OUT})"
    )
    compare.set_defaults(handler=_compare)


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--from-file", type=Path, help="JSON-lines file of reports instead of Kafka")
    source.add_argument("--topic", default="monitoring", help="the reports topic (default: monitoring)")
    parser.add_argument(
        "--bootstrap", help="Kafka bootstrap servers (default: RTINFER_KAFKA_BOOTSTRAP or local)"
    )
    parser.add_argument("--last", type=int, default=24, help="how many windows to show (default: 24)")
    parser.add_argument("--size", type=int, help="window size in seconds (default: the smallest present)")
    parser.add_argument(
        "--scan", type=int, default=5000, help="records read back per partition (default: 5000)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for Kafka (default: 30)")


def _report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rtinfer.monitor.render import plot_reports, report_table

    if args.last < 1:
        print("error: --last must be at least 1", file=sys.stderr)
        return 2
    from services.core.errors import DependencyError

    try:
        events = _read(args)
    except (OSError, DependencyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    reports = [event.data for event in events]
    sizes = sorted({report.window.size_s for report in reports})
    size = args.size if args.size is not None else (sizes[0] if sizes else None)
    chosen = [report for report in reports if report.window.size_s == size][-args.last :]
    if not chosen:
        where = args.from_file or f"topic {args.topic}"
        known = f" (sizes present: {', '.join(map(str, sizes))})" if sizes else ""
        print(f"error: no drift reports of window size {size} in {where}{known}", file=sys.stderr)
        return 1
    Console().print(report_table(chosen))
    out = plot_reports(chosen, args.out)
    print(f"plot of {len(chosen)} windows -> {out}")
    return 0


def _read(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    if args.from_file is not None:
        from services.monitor.reports_file import read_reports

        return read_reports(args.from_file)
    import asyncio

    from services.adapters.kafka.settings import KafkaSettings
    from services.monitor.kafka_io import read_latest_reports

    kafka = KafkaSettings(bootstrap=args.bootstrap) if args.bootstrap else KafkaSettings()
    return asyncio.run(read_latest_reports(kafka, args.topic, args.scan, args.timeout))


def _compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rtinfer.monitor.compare_render import comparison_table, plot_comparisons, print_verdict
    from services.core.errors import DependencyError

    if args.last < 1:
        print("error: --last must be at least 1", file=sys.stderr)
        return 2
    try:
        events = _read_comparisons(args)
    except (OSError, DependencyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    reports = [event.data for event in events]
    if args.challenger is not None:
        reports = [report for report in reports if report.challenger_name == args.challenger]
    sizes = sorted({report.window.size_s for report in reports})
    size = args.size if args.size is not None else (sizes[0] if sizes else None)
    of_size = [report for report in reports if report.window.size_s == size]
    windows = sorted({report.window.end for report in of_size})[-args.last :]
    chosen = [report for report in of_size if report.window.end in set(windows)]
    if not chosen:
        where = args.from_file or f"topic {args.topic}"
        known = f" (sizes present: {', '.join(map(str, sizes))})" if sizes else ""
        print(f"error: no comparison reports of window size {size} in {where}{known}", file=sys.stderr)
        return 1
    console = Console()
    console.print(comparison_table(chosen))
    latest = max(report.window.end for report in chosen)
    for report in chosen:
        if report.window.end == latest:
            print_verdict(console, report)
    out = plot_comparisons(chosen, args.out)
    print(f"plot of {len(windows)} windows -> {out}")
    return 0


def _read_comparisons(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    if args.from_file is not None:
        from services.monitor.reports_file import read_comparisons

        return read_comparisons(args.from_file)
    import asyncio

    from services.adapters.kafka.settings import KafkaSettings
    from services.monitor.kafka_io import read_latest_comparisons

    kafka = KafkaSettings(bootstrap=args.bootstrap) if args.bootstrap else KafkaSettings()
    return asyncio.run(read_latest_comparisons(kafka, args.topic, args.scan, args.timeout))
