"""`rtinfer demo`: generate, train when needed, stream, summarise, explain, plot."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = commands.add_parser(
        "demo",
        help="run the whole pipeline on synthetic payments and show what it does",
        description="Generate synthetic card payments, build the Feast repo, train the model when no "
        "artifact exists, index past cases, stream the latest payments through the scoring service and "
        "feature writer, then print a summary, two explanations and write a latency/throughput plot.",
    )
    demo.add_argument(
        "--stack",
        choices=["embedded", "native"],
        default="embedded",
        help="embedded: no servers (in-memory broker, SQLite, model in process, Milvus Lite); "
        "native: the servers of `rtinfer stack up`",
    )
    demo.add_argument(
        "--events",
        type=int,
        default=20_000,
        help="payments to stream, at least: the stream starts at the UTC midnight before them",
    )
    demo.add_argument("--work", type=Path, default=Path("var/demo"), help="data, repo, model, index, plot")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--drift",
        choices=["amounts", "merchant-mix", "new-pattern"],
        help="generate data with this drift in the streamed days and show the drift summary",
    )
    demo.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rtinfer.demo import prepare, report
    from rtinfer.demo.stream import run_sync
    from services.adapters.feast.settings import FeastSettings
    from services.adapters.vectors.settings import VectorSettings

    console = Console()
    started = time.perf_counter()
    work: Path = args.work
    payments = prepare.load_or_generate(work, console, args.seed, args.drift)
    history, stream = prepare.split(payments, args.events)
    tag = args.drift or "base"
    feast = FeastSettings(
        online_store="sqlite",
        repo_dir=work / f"feast-{tag}",
        data_dir=work / f"features-{tag}",
        project=f"rtinfer_demo_{tag.replace('-', '_')}",
    )
    prepare.prepare_features(history, feast, console)
    artifact, frame = prepare.prepare_model(history, feast, work / "model", console)
    vectors = VectorSettings(
        backend="milvus", collection="DemoCases", milvus_path=(work / "cases.db").resolve()
    )
    challenger_act = None
    if args.stack == "native":
        from rtinfer.demo.native import stream_native

        result = run_sync(stream_native(stream, history, frame, work, artifact, console))
    else:
        asyncio.run(prepare.prepare_vectors(history, frame, feast, artifact, vectors, console))
        from rtinfer.demo.stream import embedded_settings, seeded_state, stream_embedded
        from services.model.inprocess import InProcessModel

        scoring, writer = embedded_settings(feast, vectors, work / "model")
        state = run_sync(seeded_state(history))
        if args.drift == "new-pattern":
            from rtinfer.demo.challenger import stream_with_challenger

            result, challenger_act = stream_with_challenger(
                stream, history, feast, scoring, writer, InProcessModel(artifact), state, work, console
            )
        else:
            result = run_sync(stream_embedded(stream, scoring, writer, InProcessModel(artifact), state))
    report.summary(result, stream, console)
    report.render_explanations(result, stream, console)
    from rtinfer.demo.monitoring import monitor_reports

    monitor_reports(result, work / "model", work / f"drift-reports-{tag}.jsonl", console)
    if args.drift:
        from rtinfer.demo.drift import drift_summary

        drift_summary(result, artifact, console)
    if challenger_act is not None:
        challenger_act.report(result, stream, work, console)
    path = report.plot(result, work / "demo.png")
    console.print(f"plot written to {path}; demo took {time.perf_counter() - started:.0f} s")
    return 0
