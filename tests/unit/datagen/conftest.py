"""Small generated data sets shared by the datagen tests (generated once per session)."""

from __future__ import annotations

import pandas as pd
import pytest

from rtinfer.datagen import GeneratedData, GeneratorConfig, generate

SMALL = {"cards": 1_500, "merchants": 300, "days": 21}


@pytest.fixture(scope="session")
def small_config() -> GeneratorConfig:
    return GeneratorConfig(seed=7, **SMALL)


@pytest.fixture(scope="session")
def small_data(small_config: GeneratorConfig) -> GeneratedData:
    return generate(small_config)


@pytest.fixture(scope="session")
def payments(small_data: GeneratedData) -> pd.DataFrame:
    return small_data.payments


@pytest.fixture(scope="session")
def cards(small_data: GeneratedData) -> pd.DataFrame:
    return small_data.cards


@pytest.fixture(scope="session")
def merchants(small_data: GeneratedData) -> pd.DataFrame:
    return small_data.merchants
