"""One call from a config to the three tables: population, legitimate traffic, drift, fraud."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from rtinfer.datagen.config import PATTERN_SHARES, Drift, FraudPattern, GeneratorConfig
from rtinfer.datagen.drift import apply_drift
from rtinfer.datagen.fraud_bursts import atm_night_abroad, card_testing, velocity
from rtinfer.datagen.fraud_merchants import (
    compromise_visits,
    compromised_merchant,
    new_merchant_large,
    victim_share,
)
from rtinfer.datagen.legit import generate_legit, typical_amounts
from rtinfer.datagen.population import build_cards, build_merchants, expected_legit_payments
from rtinfer.datagen.rows import Rows
from rtinfer.datagen.tables import cards_table, merchants_table, payments_table

STAGES = ("population", "legitimate payments", "drift", "fraud patterns", "tables")
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class GeneratedTables:
    """The generated data as Arrow tables, exactly as written to parquet."""

    payments: pa.Table
    cards: pa.Table
    merchants: pa.Table


@dataclass(frozen=True, slots=True)
class GeneratedData:
    """The generated data: payments sorted by timestamp then payment_id, cards and merchants by id.

    The DataFrame properties convert the Arrow tables on every access; keep the result.
    """

    config: GeneratorConfig
    tables: GeneratedTables

    @property
    def payments(self) -> pd.DataFrame:
        return self.tables.payments.to_pandas()

    @property
    def cards(self) -> pd.DataFrame:
        return self.tables.cards.to_pandas()

    @property
    def merchants(self) -> pd.DataFrame:
        return self.tables.merchants.to_pandas()


def fraud_targets(config: GeneratorConfig, expected_legit: float) -> dict[FraudPattern, float]:
    """Fraud rows each base pattern aims at, so fraud / all payments is about config.fraud_rate."""
    fraud_rows = expected_legit * config.fraud_rate / (1.0 - config.fraud_rate)
    return {pattern: fraud_rows * share for pattern, share in PATTERN_SHARES.items()}


def generate(config: GeneratorConfig, progress: Progress | None = None) -> GeneratedData:
    """Generate the whole data set; `progress` is told the name of each stage as it starts."""
    report = progress or (lambda stage: None)
    report(STAGES[0])
    merchants = build_merchants(config)
    cards = build_cards(config, merchants)

    report(STAGES[1])
    legit = generate_legit(config, cards, merchants)
    typical = typical_amounts(legit.rows, cards)  # before drift: what the card's history looked like

    report(STAGES[2])
    legit_rows = apply_drift(config, legit, cards, merchants)

    report(STAGES[3])
    expected = expected_legit_payments(config, cards)
    targets = fraud_targets(config, expected)
    share = victim_share(
        targets[FraudPattern.COMPROMISED_MERCHANT], compromise_visits(legit.rows, merchants).size
    )
    batches = [
        legit_rows,
        card_testing(config, cards, merchants, targets[FraudPattern.CARD_TESTING]),
        velocity(config, cards, merchants, targets[FraudPattern.VELOCITY]),
        compromised_merchant(config, cards, merchants, legit_rows, share),
    ]
    if config.drift == Drift.NEW_PATTERN:
        after_share = (config.days - config.drift_day) / config.days
        batches.append(atm_night_abroad(config, cards, merchants, expected * after_share))
    earlier = Rows.concat(batches)
    large = new_merchant_large(
        config,
        cards,
        merchants,
        earlier=earlier,
        typical_amount=typical,
        target_rows=targets[FraudPattern.NEW_MERCHANT_LARGE],
    )

    report(STAGES[4])
    tables = GeneratedTables(
        payments=payments_table(config, Rows.concat([earlier, large]), cards, merchants),
        cards=cards_table(cards, typical),
        merchants=merchants_table(merchants),
    )
    return GeneratedData(config=config, tables=tables)
