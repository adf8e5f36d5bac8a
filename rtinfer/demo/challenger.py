"""The demo's champion/challenger act (`rtinfer demo --drift new-pattern`).

The drifted stream is scored in two parts. After the first part its labels are known (in the
demo at once; live they arrive days later), so a challenger is trained through the same
point-in-time path on recent history that includes the new fraud pattern (`rtinfer model train
--since`). The second part is scored by the champion with the challenger in its shadow, and the
monitor's comparison judges both on the same labelled events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from events import PREDICTION, ModelComparison, MonitorWindow
from rtinfer.demo.stream import ReplayClock, StreamResult, run_sync, stream_embedded
from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.train import TrainingConfig, train_from_frame
from services.adapters.feast.settings import FeastSettings
from services.core.monitoring.compare import PairedScores, compare_models
from services.core.monitoring.compare_verdict import ComparedModels
from services.core.monitoring.config import ComparisonConfig
from services.features.settings import FeatureWriterSettings
from services.features.state import InMemoryCardState
from services.fraud.feast_repo import apply_definitions
from services.model.artifact import ModelArtifact
from services.model.inprocess import InProcessModel
from services.scoring.settings import ChallengerSettings, ScoringSettings

CHALLENGER = "fraud-challenger"
RECENT_DAYS = 14  # the challenger learns from the last two weeks before it is trained


@dataclass(frozen=True)
class StreamParts:
    first: pd.DataFrame  # scored by the champion alone; its labels train the challenger
    second: pd.DataFrame  # scored by the champion with the challenger in its shadow
    split_at: datetime


def split_stream(stream: pd.DataFrame) -> StreamParts:
    """The stream cut at the UTC midnight nearest its middle: whole days on both sides."""
    times = stream["timestamp"]
    middle = times.iloc[len(times) // 2].round("D")
    cut = min(max(middle, times.min().ceil("D")), times.max().floor("D"))
    first = stream[times < cut].reset_index(drop=True)
    second = stream[times >= cut].reset_index(drop=True)
    return StreamParts(first, second, cut.to_pydatetime())


def train_challenger(
    history: pd.DataFrame, parts: StreamParts, feast: FeastSettings, model_dir: Path, console: Console
) -> ModelArtifact:
    """A challenger trained on the recent history plus the stream's first part (labels known by
    now), point in time through Feast, like `rtinfer model train --since`."""
    known = pd.concat([history, parts.first], ignore_index=True)
    since = parts.split_at - timedelta(days=RECENT_DAYS)
    offline = FeastSettings(
        online_store="sqlite",
        repo_dir=feast.repo_dir.with_name(feast.repo_dir.name + "-challenger"),
        data_dir=feast.data_dir.with_name(feast.data_dir.name + "-challenger"),
        project=feast.project + "_challenger",
    )
    with console.status(f"training a challenger on payments since {since:%Y-%m-%d} ..."):
        recent = known[known["timestamp"] >= since]
        # The features of the known payments, backfilled as the writer computed them live.
        backfill(known).write(offline.data_dir)
        store = apply_definitions(offline)
        frame = training_frame(store, offline.feature_service, recent)
        result = train_from_frame(
            frame, TrainingConfig(seed=42, num_iterations=200, since=since, name=CHALLENGER)
        )
        result.artifact.save(model_dir)
    metrics = result.artifact.metadata.metrics
    console.print(
        f"[green]challenger[/]: trained {CHALLENGER} {result.artifact.version} on {result.train_rows:,} "
        f"payments since {since:%Y-%m-%d} (the new pattern included): holdout ROC AUC "
        f"{metrics.roc_auc:.3f}, PR AUC {metrics.pr_auc:.3f}"
    )
    return result.artifact


def stream_with_challenger(
    stream: pd.DataFrame,
    history: pd.DataFrame,
    feast: FeastSettings,
    scoring: ScoringSettings,
    writer: FeatureWriterSettings,
    champion: InProcessModel,
    state: InMemoryCardState,
    work: Path,
    console: Console,
) -> tuple[StreamResult, ChallengerAct]:
    """The stream's first part by the champion alone, a challenger trained on what is known by
    then, the second part with the challenger in the champion's shadow."""
    parts = split_stream(stream)
    console.print(
        f"[green]stream[/]: part 1 until {parts.split_at:%Y-%m-%d} ({len(parts.first):,} payments, champion "
        f"alone), then part 2 ({len(parts.second):,}) with a challenger in its shadow"
    )
    clock = ReplayClock()
    result = run_sync(
        stream_embedded(parts.first, scoring, writer, champion, state, clock=clock, malformed=10)
    )
    model_dir = work / "challenger"
    artifact = train_challenger(history, parts, feast, model_dir, console)
    shadowed = scoring.model_copy(
        update={"challengers": [ChallengerSettings(name=CHALLENGER, model_dir=model_dir)]}
    )
    challenger = InProcessModel(artifact, model_name=CHALLENGER)
    later = run_sync(
        stream_embedded(
            parts.second, shadowed, writer, champion, state, clock=clock, malformed=10,
            challengers={CHALLENGER: challenger},
        )
    )  # fmt: skip
    result.extend(later)
    console.print(f"[green]shadow[/]: {len(later.shadows):,} shadow predictions by {CHALLENGER}")
    return result, ChallengerAct(parts, artifact)


@dataclass(frozen=True)
class ChallengerAct:
    """What the demo knows after the shadow part: the split and the challenger."""

    parts: StreamParts
    artifact: ModelArtifact

    def report(self, result: StreamResult, stream: pd.DataFrame, work: Path, console: Console) -> None:
        """Champion and challenger on the second part's labelled payments: one comparison per day
        and one over the whole part (the verdict), as the monitor computes them."""
        from rtinfer.monitor.compare_render import comparison_table, plot_comparisons, print_verdict

        paired = paired_frame(result, stream, self.parts.split_at)
        if paired.empty:
            console.print("[yellow]no shadow predictions to compare[/]")
            return
        config = ComparisonConfig(champion="fraud", challengers=(CHALLENGER,), window_sizes_s=(86400,))
        days = [group for _, group in paired.groupby(paired["time"].dt.floor("D"))]
        daily = [_compare(day, config, 86400) for day in days]
        size = int((paired["time"].max().ceil("D") - self.parts.split_at).total_seconds())
        whole = _compare(paired, config, size, start=self.parts.split_at)
        console.print(comparison_table([*daily, whole]))
        console.print(_by_pattern(paired))
        print_verdict(console, whole)
        path = plot_comparisons(daily, work / "comparison.png")
        console.print(
            f"[green]comparison[/]: {len(paired):,} payments scored by both, {int(paired['label'].sum())} "
            f"labelled frauds; plot written to {path}"
        )


def paired_frame(result: StreamResult, stream: pd.DataFrame, since: datetime) -> pd.DataFrame:
    """One row per input of the shadow part with both scores, thresholds, label and segments."""
    shadows = {event.data.input_id: event.data for event in result.shadows}
    labels = dict(zip(stream["payment_id"], stream["is_fraud"], strict=True))
    patterns = dict(zip(stream["payment_id"], stream["fraud_pattern"], strict=True))
    rows: list[dict[str, Any]] = []
    for event in result.predictions:
        if event.type != PREDICTION or event.time < since:
            continue
        prediction, shadow = event.data, shadows.get(event.data.input_id)
        if shadow is None or prediction.input_id not in labels:
            continue
        rows.append(
            {
                "time": pd.Timestamp(event.time),
                "champion": prediction.score,
                "champion_threshold": prediction.threshold,
                "champion_version": prediction.model_version,
                "challenger": shadow.score,
                "challenger_threshold": shadow.threshold,
                "challenger_version": shadow.model_version,
                "label": int(labels[prediction.input_id]),
                "pattern": str(patterns[prediction.input_id]),
                "country": prediction.segment.get("country", ""),
                "card_type": prediction.segment.get("card_type", ""),
            }
        )
    return pd.DataFrame(rows)


def _by_pattern(paired: pd.DataFrame) -> Table:
    """Frauds of each synthetic pattern each model flags at its own threshold (the demo knows the
    pattern behind every label; a live stream would not)."""
    frauds = paired[paired["label"] == 1]
    table = Table(title="frauds flagged at each model's own threshold, by pattern", title_justify="left")
    for column in ("pattern", "frauds", "champion", "challenger"):
        table.add_column(column, justify="left" if column == "pattern" else "right")
    for pattern, group in sorted(frauds.groupby("pattern"), key=lambda item: -len(item[1])):
        table.add_row(
            str(pattern),
            str(len(group)),
            str(int((group["champion"] >= group["champion_threshold"]).sum())),
            str(int((group["challenger"] >= group["challenger_threshold"]).sum())),
        )
    return table


def _compare(
    frame: pd.DataFrame, config: ComparisonConfig, size_s: int, start: datetime | None = None
) -> ModelComparison:
    begin = start or frame["time"].min().floor("D").to_pydatetime()
    window = MonitorWindow(start=begin, end=begin + timedelta(seconds=size_s), size_s=size_s)
    paired = PairedScores.of(
        frame["champion"].to_numpy(),
        frame["challenger"].to_numpy(),
        champion_threshold=frame["champion_threshold"].to_numpy(),
        challenger_threshold=frame["challenger_threshold"].to_numpy(),
        label=frame["label"].to_numpy(np.int8),
        segments={name: frame[name].to_numpy() for name in config.segment_attributes},
    )
    models = ComparedModels(
        window,
        ("fraud", str(frame["champion_version"].iloc[0])),
        (CHALLENGER, str(frame["challenger_version"].iloc[0])),
    )
    return compare_models(paired, models, config)
