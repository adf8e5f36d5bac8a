"""The demo's drift summary: PSI of each feature and of the score per day of event time,
against the training reference stored in the model artifact (the monitor's definitions)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rtinfer.demo.stream import StreamResult
from services.core.monitoring.psi import psi
from services.core.monitoring.reference import Reference, bin_counts
from services.model.artifact import ModelArtifact

ALERT_PSI = 0.2


def drift_summary(result: StreamResult, artifact: ModelArtifact, console: Console, top: int = 5) -> None:
    reference = Reference.model_validate(artifact.metadata.reference)
    if not reference.features:
        console.print("[yellow]the model artifact has no reference distributions; retrain to get them[/]")
        return
    by_day: dict[str, list[Any]] = defaultdict(list)
    for prediction in result.predictions:
        day = prediction.data.features["hour_of_day"].event_timestamp
        by_day[f"{day:%Y-%m-%d}" if day else "?"].append(prediction)
    names = list(reference.features)
    table = Table(title=f"drift by day of event time (PSI vs training; > {ALERT_PSI} is flagged)")
    table.add_column("day")
    table.add_column("events", justify="right")
    table.add_column("score PSI", justify="right")
    table.add_column(f"top {top} drifted features")
    for day in sorted(by_day):
        predictions = by_day[day]
        feature_psi: dict[str, float] = {}
        for name in names:
            bins = reference.features[name]
            observed = [_value(prediction, name) for prediction in predictions]
            feature_psi[name] = psi(bins.fractions, bin_counts(bins.edges, observed).tolist())
        scores = [p.data.score for p in predictions]
        score_psi = (
            psi(reference.score.fractions, bin_counts(reference.score.edges, scores).tolist())
            if reference.score
            else 0.0
        )
        ranked = sorted(feature_psi.items(), key=lambda item: -item[1])[:top]
        table.add_row(
            day,
            str(len(predictions)),
            _mark(score_psi),
            ", ".join(f"{name} {_mark(value)}" for name, value in ranked),
        )
    console.print(table)


def _value(prediction: Any, name: str) -> float:
    use = prediction.data.features.get(name)
    return float("nan") if use is None or use.value is None else float(use.value)


def _mark(value: float) -> str:
    text = f"{value:.3f}"
    return f"[bold red]{text}[/]" if value > ALERT_PSI and np.isfinite(value) else text
