"""Popularity-weighted merchant sampling that prefers merchants in the card's home country."""

from __future__ import annotations

import numpy as np

from rtinfer.datagen.sampling import pick_weighted


class MerchantPool:
    """Merchants eligible for some use, drawn by popularity, domestic first.

    Args:
        merchant_country: country index of every merchant.
        popularity: sampling weight of every merchant.
        include: which merchants belong to the pool (default: all).
    """

    def __init__(
        self, merchant_country: np.ndarray, popularity: np.ndarray, include: np.ndarray | None = None
    ):
        members = np.arange(merchant_country.size) if include is None else np.flatnonzero(include)
        if members.size == 0:
            raise ValueError("a merchant pool needs at least one merchant")
        self._members = members.astype(np.int32)
        self._cumulative = np.cumsum(popularity[members])
        self._by_country: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for country in np.unique(merchant_country[members]):
            local = members[merchant_country[members] == country].astype(np.int32)
            self._by_country[int(country)] = (local, np.cumsum(popularity[local]))

    @property
    def members(self) -> np.ndarray:
        return self._members

    def sample(
        self, home_country: np.ndarray, u_domestic: np.ndarray, u_pick: np.ndarray, domestic_share: float
    ) -> np.ndarray:
        """One merchant per draw: with `domestic_share` from the home country (when the pool has any there),
        otherwise from the whole pool."""
        picked = self._members[pick_weighted(self._cumulative, u_pick)]
        domestic = u_domestic < domestic_share
        for country, (local, cumulative) in self._by_country.items():
            chosen = domestic & (home_country == country)
            if chosen.any():
                picked[chosen] = local[pick_weighted(cumulative, u_pick[chosen])]
        return picked
