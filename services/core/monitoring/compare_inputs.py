"""What the comparison keeps per input (every score it got, its label), and a window's inputs
turned into the paired columns of one champion/challenger pair."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from events import ShadowRole
from services.core.monitoring.compare import PairedScores

UNKNOWN_VERSION = "unknown"

Score = tuple[str, float, bool]  # (model version, score, score >= the model's own threshold)


@dataclass(slots=True)
class ScoredInput:
    """Every score one input got, and its label once known."""

    time_s: float  # the deciding prediction's time, or the first shadow's until it arrives
    segment: dict[str, str]
    decider: tuple[str, str, float, bool] | None = None  # (model name, *Score) of the deciding prediction
    shadows: dict[str, Score] = field(default_factory=dict)  # "role:model name" -> Score
    label: int | None = None
    label_time_s: float | None = None

    def champion_score(self, champion: str) -> Score | None:
        """The champion's: its champion-role shadow (canary), else the deciding prediction."""
        shadow = self.shadows.get(f"{ShadowRole.CHAMPION.value}:{champion}")
        if shadow is not None:
            return shadow
        if self.decider is not None and self.decider[0] == champion and not self._canary():
            return self.decider[1:]
        return None

    def challenger_score(self, challenger: str, champion: str) -> Score | None:
        """The challenger's: its shadow, else the deciding prediction when the challenger decided
        (a champion-role shadow says so, or the names differ)."""
        shadow = self.shadows.get(f"{ShadowRole.CHALLENGER.value}:{challenger}")
        if shadow is not None:
            return shadow
        decider = self.decider
        if decider is not None and decider[0] == challenger and (self._canary() or challenger != champion):
            return decider[1:]
        return None

    def _canary(self) -> bool:
        role = f"{ShadowRole.CHAMPION.value}:"
        return any(key.startswith(role) for key in self.shadows)

    def to_row(self) -> list[Any]:
        return [self.time_s, self.segment, self.decider, self.shadows, self.label, self.label_time_s]

    @classmethod
    def from_row(cls, row: list[Any]) -> ScoredInput:
        time_s, segment, decider, shadows, label, label_time_s = row
        return cls(
            float(time_s),
            dict(segment),
            None if decider is None else (decider[0], decider[1], float(decider[2]), bool(decider[3])),
            {key: (score[0], float(score[1]), bool(score[2])) for key, score in shadows.items()},
            label,
            label_time_s,
        )


@dataclass(frozen=True)
class Pairing:
    """A window's inputs for one champion/challenger pair."""

    paired: PairedScores
    champion_only: int
    challenger_only: int
    champion_version: str  # the versions seen, comma-separated
    challenger_version: str

    @property
    def empty(self) -> bool:
        return not (len(self.paired) or self.champion_only or self.challenger_only)


def pair_up(
    members: Iterable[ScoredInput], champion: str, challenger: str, attributes: tuple[str, ...]
) -> Pairing:
    """The inputs with both scores as columns (in the order given), and those with one only."""
    pairs: list[tuple[Score, Score, ScoredInput]] = []
    champion_only = challenger_only = 0
    versions: tuple[set[str], set[str]] = (set(), set())
    for scored in members:
        ours, theirs = scored.champion_score(champion), scored.challenger_score(challenger, champion)
        if ours is not None:
            versions[0].add(ours[0])
        if theirs is not None:
            versions[1].add(theirs[0])
        if ours is not None and theirs is not None:
            pairs.append((ours, theirs, scored))
        elif ours is not None:
            champion_only += 1
        elif theirs is not None:
            challenger_only += 1
    paired = PairedScores(
        champion=np.array([ours[1] for ours, _, _ in pairs], dtype=np.float64),
        challenger=np.array([theirs[1] for _, theirs, _ in pairs], dtype=np.float64),
        champion_flagged=np.array([ours[2] for ours, _, _ in pairs], dtype=bool),
        challenger_flagged=np.array([theirs[2] for _, theirs, _ in pairs], dtype=bool),
        label=np.array([-1 if s.label is None else s.label for _, _, s in pairs], dtype=np.int8),
        segments={
            name: np.array([s.segment.get(name, "") for _, _, s in pairs], dtype=np.str_)
            for name in attributes
        },
    )
    return Pairing(
        paired,
        champion_only,
        challenger_only,
        ",".join(sorted(versions[0])) or UNKNOWN_VERSION,
        ",".join(sorted(versions[1])) or UNKNOWN_VERSION,
    )
