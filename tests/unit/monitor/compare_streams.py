"""Synthetic champion/challenger streams: deciding predictions, shadow predictions and labels.

Each input is legitimate, an "old" fraud both models know, or a "new-pattern" fraud (a share of
the frauds) that only a challenger trained on it scores high. Scores are a sigmoid of a latent:

- champion: legit N(0, 1), old fraud N(2.4, 1), new-pattern fraud (40 % of frauds) N(0.3, 1)
- `BETTER` challenger: the champion's latent plus N(0, 0.3), except new-pattern frauds: N(2.4, 1)
- `SAME` challenger: the champion's scores exactly (another version of the same model)
- `NOISY_COPY` challenger: the champion's latent plus N(0, 0.05)

Each model's review threshold is its 95 % score quantile on a reference sample (another seed):
5 % of inputs flagged, as a team would calibrate a model before shadowing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from events import (
    PREDICTION,
    Decision,
    Event,
    Label,
    Prediction,
    ShadowPrediction,
    ShadowRole,
    label_event,
    prediction_id,
    shadow_prediction_event,
)

CHAMPION, CHALLENGER = "fraud", "fraud-next"
CHAMPION_VERSION, CHALLENGER_VERSION = "7", "8"
T0 = datetime(2025, 3, 3, tzinfo=UTC)
SIZE_S = 3600
FRAUD_RATE = 0.03
NEW_PATTERN_SHARE = 0.4
FLAG_SHARE = 0.05
SOURCE = "//tests/scoring"


class Kind(StrEnum):
    BETTER = "better"
    SAME = "same"
    NOISY_COPY = "noisy_copy"


@dataclass(frozen=True)
class Inputs:
    """One row per input: label, both models' scores and thresholds, segment values."""

    fraud: np.ndarray
    champion: np.ndarray
    challenger: np.ndarray
    champion_threshold: float
    challenger_threshold: float
    country: np.ndarray
    card_type: np.ndarray


def _sigmoid(latent: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(latent - 2.5)))


def _scores(rng: np.random.Generator, count: int, kind: Kind) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fraud = rng.random(count) < FRAUD_RATE
    new_pattern = fraud & (rng.random(count) < NEW_PATTERN_SHARE)
    latent = rng.normal(0.0, 1.0, count) + np.where(fraud, 2.4, 0.0)
    latent[new_pattern] = rng.normal(0.3, 1.0, int(new_pattern.sum()))
    if kind is Kind.SAME:
        other = latent.copy()
    elif kind is Kind.NOISY_COPY:
        other = latent + rng.normal(0.0, 0.05, count)
    else:
        other = latent + rng.normal(0.0, 0.3, count)
        other[new_pattern] = rng.normal(2.4, 1.0, int(new_pattern.sum()))
    return fraud, _sigmoid(latent), _sigmoid(other)


def draw_inputs(seed: int, count: int, kind: Kind) -> Inputs:
    _, reference_champion, reference_challenger = _scores(np.random.default_rng(seed + 10_000), 20_000, kind)
    rng = np.random.default_rng(seed)
    fraud, champion, challenger = _scores(rng, count, kind)
    champion_threshold = float(np.quantile(reference_champion, 1 - FLAG_SHARE))
    challenger_threshold = (
        champion_threshold if kind is Kind.SAME else float(np.quantile(reference_challenger, 1 - FLAG_SHARE))
    )
    return Inputs(
        fraud=fraud.astype(np.int8),
        champion=champion,
        challenger=challenger,
        champion_threshold=champion_threshold,
        challenger_threshold=challenger_threshold,
        country=rng.choice(np.array(["FR", "DE", "ES"]), count),
        card_type=rng.choice(np.array(["credit", "debit"]), count, p=[0.6, 0.4]),
    )


def _decision(score: float, threshold: float) -> Decision:
    return Decision.APPROVE if score < threshold else Decision.REVIEW


def events_of(
    inputs: Inputs,
    *,
    seed: int,
    start_s: float = 0.0,
    size_s: float = SIZE_S,
    canary: np.ndarray | None = None,
    labelled: np.ndarray | None = None,
    challenger_version: str = CHALLENGER_VERSION,
) -> list[Event[Any]]:
    """Per input, in time order: its deciding prediction, the shadow score 1 ms later and its
    label 1 s later (where `labelled`). Rows where `canary` is set are decided by the challenger,
    the champion's score riding as the shadow (role champion)."""
    count = len(inputs.fraud)
    rng = np.random.default_rng(seed + 20_000)
    times_s = start_s + np.sort(rng.uniform(0, size_s - 2, count))
    events: list[Event[Any]] = []
    for row in range(count):
        time = T0 + timedelta(seconds=float(times_s[row]))
        by_canary = bool(canary[row]) if canary is not None else False
        champion = (CHAMPION, CHAMPION_VERSION, float(inputs.champion[row]), inputs.champion_threshold)
        challenger = (
            CHALLENGER,
            challenger_version,
            float(inputs.challenger[row]),
            inputs.challenger_threshold,
        )
        decider, shadow = (challenger, champion) if by_canary else (champion, challenger)
        segment = {"country": str(inputs.country[row]), "card_type": str(inputs.card_type[row])}
        prediction = prediction_at(f"pay-{seed}-{row}", decider, segment, time)
        role = ShadowRole.CHAMPION if by_canary else ShadowRole.CHALLENGER
        events.append(prediction)
        events.append(shadow_of(prediction, shadow, role, time + timedelta(milliseconds=1)))
        if labelled is None or labelled[row]:
            events.append(label_at(prediction, int(inputs.fraud[row]), time + timedelta(seconds=1)))
    return events


def prediction_at(
    payment_id: str, model: tuple[str, str, float, float], segment: dict[str, str], time: datetime
) -> Event[Prediction]:
    name, version, score, threshold = model
    prediction = Prediction(
        input_id=payment_id,
        input_source="//tests/acquirer",
        entity={"card_id": f"card-{payment_id}"},
        score=score,
        decision=_decision(score, threshold),
        threshold=threshold,
        model_name=name,
        model_version=version,
        segment=segment,
    )
    return Event(
        id=prediction_id(prediction.input_source, payment_id, version),
        source=SOURCE,
        type=PREDICTION,
        time=time,
        subject=prediction.entity["card_id"],
        partitionkey=prediction.entity["card_id"],
        causationid=payment_id,
        data=prediction,
    )


def shadow_of(
    prediction: Event[Prediction], model: tuple[str, str, float, float], role: ShadowRole, time: datetime
) -> Event[ShadowPrediction]:
    name, version, score, threshold = model
    shadow = ShadowPrediction(
        input_id=prediction.data.input_id,
        input_source=prediction.data.input_source,
        prediction_id=prediction.id,
        role=role,
        entity=prediction.data.entity,
        score=score,
        decision=_decision(score, threshold),
        threshold=threshold,
        decline_at=1.0,
        model_name=name,
        model_version=version,
        decided_by=prediction.data.model_name,
        segment=prediction.data.segment,
    )
    return shadow_prediction_event(prediction, shadow, source=SOURCE, time=time)


def label_at(prediction: Event[Prediction], is_fraud: int, time: datetime) -> Event[Label]:
    label = Label(
        payment_id=prediction.data.input_id,
        card_id=prediction.data.entity["card_id"],
        is_fraud=1 if is_fraud else 0,
        label_time=time,
    )
    return label_event(label, source="//tests/chargebacks")


def closing_prediction(after_s: float, model: str = CHAMPION) -> Event[Prediction]:
    """A prediction `after_s` seconds after T0: its time moves event time past earlier windows."""
    decider = (model, CHAMPION_VERSION, 0.1, 0.5)
    return prediction_at(f"pay-closing-{after_s}", decider, {}, T0 + timedelta(seconds=after_s))
