"""The case schema: what a use case stores with each case, and how every backend honours it.

Weaviate's collection layout is checked without a server (the fraud schema must give the same
properties as before the schema was configurable); Milvus Lite runs in process.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pymilvus import DataType as MilvusType
from weaviate.classes.config import DataType, Property, Tokenization

from services.adapters.vectors import weaviate_index
from services.adapters.vectors.common import MilvusIndexSettings, property_rows, stored_properties
from services.adapters.vectors.factory import make_index
from services.adapters.vectors.memory import InMemoryIndex
from services.adapters.vectors.milvus_index import MilvusLiteIndex
from services.adapters.vectors.settings import VectorSettings
from services.core.errors import BadRequestError
from services.core.ports import Case, CaseSchema
from services.fraud.cases import CASE_COLUMNS, FRAUD_CASE_SCHEMA
from services.scoring.settings import ScoringSettings

pytestmark = pytest.mark.unit

START = datetime(2024, 6, 1, tzinfo=UTC)
# Another use case: every kind, none of the fraud names.
OTHER = CaseSchema({"channel": "text", "score": "number", "attempts": "int", "flagged": "bool"})


def _other_cases(count: int) -> list[Case]:
    return [
        Case(
            f"o-{row}",
            row % 2,
            START + timedelta(minutes=row),
            {"channel": f"web {row}", "score": row / 4, "attempts": 2**40 + row, "flagged": row % 3 == 0},
        )
        for row in range(count)
    ]


def test_the_fraud_schema_is_amount_and_merchant() -> None:
    assert CaseSchema({"amount": "number", "merchant_id": "text"}) == FRAUD_CASE_SCHEMA
    assert CASE_COLUMNS == ("case_id", "label", "amount", "merchant_id", "timestamp")
    assert hash(FRAUD_CASE_SCHEMA) == hash(CaseSchema({"amount": "number", "merchant_id": "text"}))


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"label": "int"}, "not one of"),
        ({"Amount": "number"}, "use"),
        ({"two words": "text"}, "use"),
        ({"amount": "float"}, "kind 'float'"),
    ],
)
def test_schema_refuses_bad_names_and_kinds(properties: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CaseSchema(properties)  # type: ignore[arg-type]


def test_property_rows_fit_values_to_their_kinds() -> None:
    numpy_values: dict[str, object] = {
        "channel": "web",
        "score": np.float64(2.5),
        "attempts": np.int64(3),
        "flagged": np.True_,
    }
    case = Case("c", 1, START, numpy_values)  # type: ignore[arg-type]  # as a frame's columns give them

    [row] = property_rows(OTHER, [case])

    assert row == {"channel": "web", "score": 2.5, "attempts": 3, "flagged": True}
    assert [type(value) for value in row.values()] == [str, float, int, bool]
    assert list(row) == list(OTHER.names)  # schema order, whatever order the case had


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"amount": 1.0}, "lacks merchant_id"),
        ({"amount": 1.0, "merchant_id": "m", "mcc": "5411"}, "undeclared mcc"),
        ({"amount": "1.0", "merchant_id": "m"}, "amount must be number"),
        ({"amount": True, "merchant_id": "m"}, "amount must be number"),
        ({"amount": 1.0, "merchant_id": 7}, "merchant_id must be text"),
    ],
)
def test_property_rows_refuse_cases_that_do_not_fit(properties: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        property_rows(FRAUD_CASE_SCHEMA, [Case("c", 0, START, properties)])  # type: ignore[arg-type]


def test_missing_values_only_where_the_backend_stores_them() -> None:
    case = Case("c", 0, START, {"amount": None, "merchant_id": "m"})
    assert property_rows(FRAUD_CASE_SCHEMA, [case]) == [{"amount": None, "merchant_id": "m"}]
    with pytest.raises(ValueError, match="amount is None"):
        property_rows(FRAUD_CASE_SCHEMA, [case], nullable=False)


def test_stored_properties_are_typed_and_limited_to_the_schema() -> None:
    found = {"amount": 784, "merchant_id": "m-1", "case_id": "c", "extra": 1}  # GraphQL sends 784.0 as 784
    stored = stored_properties(FRAUD_CASE_SCHEMA, found)
    assert stored == {"amount": 784.0, "merchant_id": "m-1"}
    assert type(stored["amount"]) is float
    assert stored_properties(OTHER, {}) == dict.fromkeys(OTHER.names)


def test_weaviate_fraud_collection_is_laid_out_as_before() -> None:
    before = [
        Property(name="case_id", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="label", data_type=DataType.INT),
        Property(name="amount", data_type=DataType.NUMBER),
        Property(name="merchant_id", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="timestamp", data_type=DataType.DATE),
    ]
    properties = weaviate_index.collection_properties(FRAUD_CASE_SCHEMA)
    assert [p._to_dict() for p in properties] == [p._to_dict() for p in before]
    assert weaviate_index.returned_properties(FRAUD_CASE_SCHEMA) == [
        "case_id",
        "label",
        "amount",
        "merchant_id",
        "timestamp",
    ]


def test_weaviate_collection_follows_any_schema() -> None:
    properties = weaviate_index.collection_properties(OTHER)
    assert [(p.name, p.dataType, p.tokenization) for p in properties] == [
        ("case_id", DataType.TEXT, Tokenization.FIELD),
        ("label", DataType.INT, None),
        ("channel", DataType.TEXT, Tokenization.FIELD),
        ("score", DataType.NUMBER, None),
        ("attempts", DataType.INT, None),
        ("flagged", DataType.BOOL, None),
        ("timestamp", DataType.DATE, None),
    ]


async def test_in_memory_index_returns_exactly_the_schema() -> None:
    index = InMemoryIndex(OTHER)
    cases = _other_cases(4)
    await index.upsert(cases, np.eye(4, dtype=np.float32))

    answer = await index.search(np.eye(4, dtype=np.float32), 1)

    for case, [nearest] in zip(cases, answer, strict=True):
        assert nearest.properties == {**case.properties, "timestamp": case.timestamp}
    with pytest.raises(ValueError, match="lacks"):
        await index.upsert(
            [Case("x", 0, START, {"amount": 1.0, "merchant_id": "m"})], np.ones((1, 4), np.float32)
        )


def test_settings_carry_the_schema_to_the_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTINFER_VECTORS_CASE_PROPERTIES", raising=False)
    unset = VectorSettings(milvus_path=Path("cases.db"))
    with pytest.raises(ValueError, match="no case schema"):
        make_index(unset)

    fraud = unset.with_default_schema(FRAUD_CASE_SCHEMA)
    index = make_index(fraud, "milvus")
    assert isinstance(index, MilvusLiteIndex)
    assert index.schema == FRAUD_CASE_SCHEMA

    configured = VectorSettings(case_properties={"channel": "text"}, milvus_path=Path("cases.db"))
    assert configured.with_default_schema(FRAUD_CASE_SCHEMA).case_schema() == CaseSchema({"channel": "text"})


def test_schema_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_VECTORS_CASE_PROPERTIES", '{"channel": "text", "score": "number"}')
    assert VectorSettings().case_schema() == CaseSchema({"channel": "text", "score": "number"})
    assert ScoringSettings().vectors.case_schema() == CaseSchema({"channel": "text", "score": "number"})

    monkeypatch.setenv("RTINFER_VECTORS_CASE_PROPERTIES", '{"timestamp": "text"}')
    with pytest.raises(ValueError, match="timestamp"):
        VectorSettings()


def test_scoring_defaults_to_the_fraud_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTINFER_VECTORS_CASE_PROPERTIES", raising=False)
    monkeypatch.setenv("RTINFER_SCORING_VECTORS__K", "7")  # nested settings built from the environment

    settings = ScoringSettings()

    assert settings.vectors.k == 7
    assert settings.vectors.case_schema() == FRAUD_CASE_SCHEMA
    given = ScoringSettings(vectors=VectorSettings(collection="Other"))
    assert given.vectors.case_schema() == FRAUD_CASE_SCHEMA


@pytest.fixture
def milvus_path(tmp_path: Path) -> Path:
    return tmp_path / "cases.db"


async def test_milvus_stores_and_returns_exactly_the_schema(milvus_path: Path) -> None:
    index = MilvusLiteIndex(MilvusIndexSettings(collection="Other", path=milvus_path), OTHER)
    cases = _other_cases(6)
    vectors = np.eye(6, dtype=np.float32)
    try:
        await index.ensure_collection(6)
        assert await index.upsert(cases, vectors) == 6
        answer = await index.search(vectors, 1)
        with pytest.raises(ValueError, match="channel is None"):
            await index.upsert([Case("x", 0, START, {**cases[0].properties, "channel": None})], vectors[:1])
    finally:
        await index.close()

    for case, [nearest] in zip(cases, answer, strict=True):
        assert nearest.id == case.id
        assert nearest.label == case.label
        assert nearest.properties == {**case.properties, "timestamp": case.timestamp}
        assert [type(nearest.properties[name]) for name in OTHER.names] == [str, float, int, bool]


async def test_milvus_fraud_collection_keeps_its_fields(milvus_path: Path) -> None:
    settings = MilvusIndexSettings(collection="Fraud", path=milvus_path)
    index = MilvusLiteIndex(settings, FRAUD_CASE_SCHEMA)
    other = MilvusLiteIndex(settings, OTHER)
    try:
        await index.ensure_collection(4)
        client = await index._connected()
        fields = client.describe_collection("Fraud")["fields"]

        assert [(f["name"], f["type"], f["params"]) for f in fields] == [
            ("id", MilvusType.VARCHAR, {"max_length": 512}),
            ("vector", MilvusType.FLOAT_VECTOR, {"dim": 4}),
            ("label", MilvusType.INT64, {}),
            ("amount", MilvusType.DOUBLE, {}),
            ("merchant_id", MilvusType.VARCHAR, {"max_length": 512}),
            ("timestamp", MilvusType.TIMESTAMPTZ, {}),
        ]
        with pytest.raises(BadRequestError, match="no field channel"):
            await other.ensure_collection(4)
    finally:
        await other.close()
        await index.close()
