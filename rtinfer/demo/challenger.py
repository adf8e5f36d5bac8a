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

import pandas as pd
from rich.console import Console

from rtinfer.features.backfill import backfill
from rtinfer.features.training_set import training_frame
from rtinfer.model.train import TrainingConfig, train_from_frame
from services.adapters.feast.settings import FeastSettings
from services.fraud.feast_repo import apply_definitions
from services.model.artifact import ModelArtifact

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
    result = asyncio.run(stream_embedded(parts.first, scoring, writer, champion, state, clock=clock, malformed=10))
    model_dir = work / "challenger"
    artifact = train_challenger(history, parts, feast, model_dir, console)
    shadowed = scoring.model_copy(
        update={"challengers": [ChallengerSettings(name=CHALLENGER, model_dir=model_dir)]}
    )
    challenger = InProcessModel(artifact, model_name=CHALLENGER)
    later = asyncio.run(
        stream_embedded(
            parts.second, shadowed, writer, champion, state, clock=clock, malformed=10,
            challengers={CHALLENGER: challenger},
        )
    )  # fmt: skip
    result.extend(later)
    console.print(f"[green]shadow[/]: {len(later.shadows):,} shadow predictions by {CHALLENGER}")
    return result, ChallengerAct(parts, artifact)
