"""Generated payments for integration tests: the project's own generator, small sizes."""

from __future__ import annotations

import functools

import pandas as pd

from rtinfer.datagen import GeneratorConfig, generate


@functools.cache
def _base(seed: int) -> pd.DataFrame:
    # About 12,000 payments over 20 days, with all four fraud patterns planted.
    config = GeneratorConfig(seed=seed, cards=360, merchants=80, days=20)
    return generate(config).payments


def generated_payments(count: int, seed: int = 7) -> pd.DataFrame:
    """The first `count` payments (by time) of a generated data set."""
    payments = _base(seed)
    assert len(payments) >= count, f"generator made {len(payments)} payments, {count} wanted"
    return payments.iloc[:count].reset_index(drop=True)
