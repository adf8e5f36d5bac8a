"""Drift scenarios that rewrite legitimate payments from the drift day on, and nothing before it.

The "new-pattern" scenario adds fraud instead (see fraud_bursts.atm_night_abroad).
"""

from __future__ import annotations

import numpy as np

from rtinfer.datagen.catalog import MERCHANT_MIX_DRIFT_MCCS
from rtinfer.datagen.config import Drift, GeneratorConfig, stream
from rtinfer.datagen.legit import LegitPayments, priced
from rtinfer.datagen.population import Cards, Merchants
from rtinfer.datagen.rows import Rows

# Strong enough that the monitor's default feature PSI alert (0.2) fires on a day window of a
# few thousand payments (amount PSI about 0.45-0.5, channel_code about 0.65-0.75; docs/data.md).
AMOUNT_DRIFT_FACTOR = 2.5  # legitimate amounts grow by 150 %
MERCHANT_MIX_SHARE = 0.8  # share of later legitimate payments moved to the online-heavy categories
MERCHANT_MIX_DOMESTIC_SHARE = 0.8


def apply_drift(config: GeneratorConfig, legit: LegitPayments, cards: Cards, merchants: Merchants) -> Rows:
    """The legitimate rows as the drift scenario leaves them (unchanged without one)."""
    rows = legit.rows
    after = rows.t_us >= config.drift_start_us
    if config.drift == Drift.AMOUNTS:
        columns = priced(
            rows.merchant[after],
            rows.card[after],
            legit.draws.take(after),
            cards=cards,
            merchants=merchants,
            factor=AMOUNT_DRIFT_FACTOR,
        )
        return rows.replace(after, **columns)
    if config.drift == Drift.MERCHANT_MIX:
        rng = stream(config.seed, "drift")
        u_shift, u_domestic, u_pick = rng.random((3, len(rows)))
        moved = after & (u_shift < MERCHANT_MIX_SHARE)
        pool = merchants.pool(np.isin(merchants.mcc, MERCHANT_MIX_DRIFT_MCCS))
        card = rows.card[moved]
        merchant = pool.sample(
            cards.country[card], u_domestic[moved], u_pick[moved], MERCHANT_MIX_DOMESTIC_SHARE
        )
        columns = priced(merchant, card, legit.draws.take(moved), cards=cards, merchants=merchants)
        return rows.replace(moved, **columns)
    return rows
