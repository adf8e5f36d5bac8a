"""The demo's summary, explanations rendered for a person, and a latency/throughput plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from rtinfer.demo.stream import StreamResult


def summary(result: StreamResult, stream: pd.DataFrame, console: Console) -> dict[str, float]:
    events = sum(b.events for b in result.batches)
    per_event_ms = np.repeat([b.seconds * 1000 for b in result.batches], [b.events for b in result.batches])
    labels = stream.set_index("payment_id")["is_fraud"]
    flagged = {p.data.input_id for p in result.predictions if p.data.decision.value != "approve"}
    fraud = set(labels[labels == 1].index)
    figures = {
        "events": float(events),
        "predictions": float(len(result.predictions)),
        "events_per_s": events / result.seconds if result.seconds else 0.0,
        "p50_ms": float(np.percentile(per_event_ms, 50)),
        "p99_ms": float(np.percentile(per_event_ms, 99)),
        "fraud": float(len(fraud)),
        "caught": float(len(fraud & flagged)),
        "missed": float(len(fraud - flagged)),
        "false_alarms": float(len(flagged - fraud)),
        "dlq": float(len(result.dead_letters)),
        "explanations": float(len(result.explanations)),
    }
    table = Table(title="rtinfer demo: summary", show_header=False)
    rows = [
        ("events streamed (incl. malformed)", f"{events:,}"),
        ("predictions", f"{len(result.predictions):,}"),
        ("throughput", f"{figures['events_per_s']:,.0f} events/s"),
        (
            "latency per event (its micro-batch) p50 / p99",
            f"{figures['p50_ms']:.1f} ms / {figures['p99_ms']:.1f} ms",
        ),
        ("fraud caught at the review threshold", f"{figures['caught']:.0f} of {figures['fraud']:.0f}"),
        ("fraud missed", f"{figures['missed']:.0f}"),
        ("legitimate payments flagged", f"{figures['false_alarms']:.0f}"),
        ("dead letters (DLQ)", f"{len(result.dead_letters)}"),
        ("explanation events", f"{len(result.explanations)} ({result.explain_counters})"),
    ]
    stages: dict[str, list[float]] = {}
    for prediction in result.predictions:
        for stage, ms in prediction.data.latency_ms.items():
            stages.setdefault(stage, []).append(ms)
    if stages:
        rows.append(
            (
                "per micro-batch stage p50 (ms)",
                ", ".join(f"{name} {np.percentile(values, 50):.1f}" for name, values in stages.items()),
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    return figures


def render_explanations(result: StreamResult, stream: pd.DataFrame, console: Console, count: int = 2) -> None:
    labels = stream.set_index("payment_id")
    predictions = {p.id: p for p in result.predictions}
    chosen = sorted(result.explanations, key=lambda e: -e.data.score)
    frauds = [e for e in chosen if labels.loc[e.data.input_id, "is_fraud"] == 1][:count]
    for explanation in (frauds or chosen)[:count]:
        _render_one(explanation, predictions.get(explanation.data.prediction_id), labels, console)


def _render_one(explanation: Any, prediction: Any, labels: pd.DataFrame, console: Console) -> None:
    data = explanation.data
    payment = labels.loc[data.input_id]
    console.rule(f"why payment {data.input_id} scored {data.score:.3f}")
    console.print(
        f"card {payment['card_id']} paid {payment['amount']:.2f} {payment['currency']} at merchant "
        f"{payment['merchant_id']} (MCC {payment['merchant_category']}, {payment['channel']}, "
        f"{payment['country']}) at {payment['timestamp']:%Y-%m-%d %H:%M} UTC"
    )
    if prediction is not None:
        console.print(
            f"decision: [bold]{prediction.data.decision.value}[/]   "
            f"truth (synthetic label): {'fraud, ' + payment['fraud_pattern'] if payment['is_fraud'] else 'legitimate'}"
        )
    console.print(f"base value (log-odds) {data.base_value:+.3f}; the largest contributions:")
    width = max(abs(top.contribution) for top in data.top) or 1.0
    for top in data.top:
        bar = "█" * max(1, round(20 * abs(top.contribution) / width))
        sign = "[red]raises[/]" if top.contribution > 0 else "[green]lowers[/]"
        value = "missing" if top.value is None else f"{top.value:,.2f}"
        console.print(f"  {top.feature:<30} = {value:>12}  {sign} risk {top.contribution:+.3f} {bar}")
    if data.neighbours:
        cases = ", ".join(
            f"{n.id} ({'fraud' if n.label == 1 else 'legit' if n.label == 0 else '?'}, d={n.distance:.2f})"
            for n in data.neighbours
        )
        frauds = sum(1 for n in data.neighbours if n.label == 1)
        console.print(f"similar past cases: {frauds} of {len(data.neighbours)} were fraud: {cases}")


def plot(result: StreamResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = np.array([b.events for b in result.batches])
    seconds = np.array([b.seconds for b in result.batches])
    elapsed = np.cumsum(seconds)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.plot(elapsed, sizes / seconds, color="tab:blue")
    top.set_ylabel("events/s per micro-batch")
    top.set_title("rtinfer demo: throughput and latency")
    bottom.plot(elapsed, seconds * 1000, color="tab:red")
    bottom.set_ylabel("batch latency (ms)")
    bottom.set_xlabel("elapsed (s)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
