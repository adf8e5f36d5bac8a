"""The demo's predictions and explanations through the drift monitor's core, in event time.

Windows of `window_s` over the replayed days; the reports are written as JSON lines for
`rtinfer monitor report --from-file`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from rtinfer.demo.stream import StreamResult
from services.core.monitoring.config import MonitorConfig
from services.core.monitoring.monitor import Monitor
from services.monitor.artifact import load_model_reference
from services.monitor.reports_file import append_reports


def monitor_reports(
    result: StreamResult, model_dir: Path, out: Path, console: Console, window_s: int = 86400
) -> Path:
    model = load_model_reference(model_dir)
    # Attribution drift from the sampled explanations only: flagged ones are not like the
    # training rows by construction.
    config = MonitorConfig(
        window_sizes_s=(window_s,),
        allowed_lateness_s=0.0,
        segment_min_count=300,
        attribution_reasons=("sampled",),
    )
    monitor = Monitor(model, config, source="/demo/monitor", clock=lambda: datetime.now(UTC))
    events = sorted([*result.predictions, *result.explanations], key=lambda event: event.time)
    for event in events:
        monitor.observe(event)
    if out.exists():
        out.unlink()
    append_reports(out, monitor.outbox)
    reports = [event for event in monitor.outbox if event.type.endswith("drift.report.v1")]
    alerts = [event for event in monitor.outbox if event.type.endswith("drift.alert.v1")]
    console.print(
        f"[green]monitor[/]: {len(reports)} closed windows of {window_s // 3600} h, {len(alerts)} alerts; "
        f"`rtinfer monitor report --from-file {out}` renders them"
    )
    return out
