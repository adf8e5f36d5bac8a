"""Payment CloudEvents for the load test: generated rows, a unique id per send, event time now."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from events import Event, Payment, new_payment_event
from rtinfer.producer.payments import PAYMENT_COLUMNS

SOURCE = "/rtinfer/loadtest"


def load_payments(path: Path | None, *, seed: int = 7) -> pd.DataFrame:
    """Rows from a payments Parquet file (`rtinfer data generate`), or a small generated set."""
    if path is not None and path.exists():
        return pd.read_parquet(path, columns=list(PAYMENT_COLUMNS))
    from rtinfer.datagen import GeneratorConfig, generate

    # About 12,000 payments with all four fraud patterns: enough variety for a minute at 200/s.
    config = GeneratorConfig(seed=seed, cards=360, merchants=80, days=20)
    return generate(config).payments.loc[:, list(PAYMENT_COLUMNS)]


class PaymentEvents:
    """Cycles through payment rows; each event gets a fresh id so its prediction can be matched.

    Args:
        payments: rows with the columns of rtinfer.producer.payments.PAYMENT_COLUMNS.
        event_time: "now" stamps each payment when it is built (a live stream); "original"
            keeps the generated timestamp.
        clock: the clock for "now".
    """

    def __init__(
        self,
        payments: pd.DataFrame,
        *,
        event_time: str = "now",
        run_id: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if payments.empty:
            raise ValueError("no payments to send")
        self._rows: list[dict[str, Any]] = payments.loc[:, list(PAYMENT_COLUMNS)].to_dict("records")
        self._cycle = itertools.cycle(range(len(self._rows)))
        self._sequence = itertools.count()
        self._lock = threading.Lock()  # users share one source
        self._run_id = run_id or uuid.uuid4().hex[:10]
        self._now = event_time == "now"
        self._clock = clock

    def __iter__(self) -> Iterator[Event[Payment]]:
        return self

    def __next__(self) -> Event[Payment]:
        with self._lock:
            row = dict(self._rows[next(self._cycle)])
            number = next(self._sequence)
        row["payment_id"] = f"lt-{self._run_id}-{number}"
        row["timestamp"] = self._clock() if self._now else pd.Timestamp(row["timestamp"]).to_pydatetime()
        row["amount"] = float(row["amount"])
        # Rows come from our own generator: lax mode turns strings into the enum types.
        return new_payment_event(Payment.model_validate(row, strict=False), source=SOURCE)
