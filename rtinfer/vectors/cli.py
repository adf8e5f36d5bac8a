"""The `rtinfer vectors` command group: load past cases into an index, query it by hand."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from rtinfer.vectors.indexing import index_cases
from services.adapters.vectors.factory import make_index
from services.adapters.vectors.settings import Backend, VectorSettings
from services.core.embedding import Standardizer
from services.core.errors import DependencyError
from services.core.ports import Case, FloatMatrix, Neighbour

BACKENDS: tuple[Backend, ...] = ("weaviate", "milvus")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    vectors = commands.add_parser(
        "vectors",
        help="vector index of labelled past cases (Weaviate or Milvus Lite)",
        description="Embeddings are the model's feature vectors standardized with the scaler "
        "stored in the model artifact (or, without one, fitted on the cases). Connection "
        "settings come from RTINFER_VECTORS_* and RTINFER_WEAVIATE_URL/_GRPC_PORT/_API_KEY.",
    )
    actions = vectors.add_subparsers(dest="action", required=True, metavar="ACTION")

    index = actions.add_parser("index", help="embed cases from Parquet and upsert them")
    _add_embedding_arguments(index, cases_required=True)
    index.add_argument("--backend", choices=[*BACKENDS, "both"], help="default: RTINFER_VECTORS_BACKEND")
    index.add_argument("--collection", help="default: RTINFER_VECTORS_COLLECTION")
    index.add_argument("--batch-size", type=int, help="cases per upsert call")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(handler=index_command)

    search = actions.add_parser("search", help="print the nearest stored cases for one query")
    _add_embedding_arguments(search, cases_required=False)
    search.add_argument("--backend", choices=BACKENDS, help="default: RTINFER_VECTORS_BACKEND")
    search.add_argument("--collection", help="default: RTINFER_VECTORS_COLLECTION")
    search.add_argument("-k", "--k", type=int, help="neighbours to show (default RTINFER_VECTORS_K)")
    query = search.add_mutually_exclusive_group(required=True)
    query.add_argument("--case-id", help="query with this case's embedding (needs --cases)")
    query.add_argument("--vector", help="query with this embedding, comma-separated floats")
    search.set_defaults(handler=search_command)


def _add_embedding_arguments(parser: argparse.ArgumentParser, *, cases_required: bool) -> None:
    parser.add_argument(
        "--cases",
        type=Path,
        required=cases_required,
        metavar="PARQUET",
        help="columns case_id, label, timestamp, the fraud case properties (amount, merchant_id) "
        "and the feature columns",
    )
    source = parser.add_mutually_exclusive_group(required=cases_required)
    source.add_argument("--features", help="feature columns name1,name2,... (scaler fitted on the cases)")
    source.add_argument("--model-dir", type=Path, help="model artifact with metadata.json (names + scaler)")


def index_command(args: argparse.Namespace) -> int:
    """Embed the cases and upsert them into the chosen backend(s)."""
    settings = _settings(args)
    cases, vectors = _embedded_cases(args)
    backends: list[Backend] = list(BACKENDS) if args.backend == "both" else [args.backend or settings.backend]
    for backend in backends:
        try:
            written = asyncio.run(_index(settings, backend, cases, vectors, not args.no_progress))
        except DependencyError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"{backend}: {written} cases in collection {settings.collection} ({vectors.shape[1]}-d)")
    return 0


def search_command(args: argparse.Namespace) -> int:
    """Print the nearest stored cases for one query vector."""
    settings = _settings(args)
    try:
        query = _query_vector(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    backend: Backend = args.backend or settings.backend
    try:
        neighbours = asyncio.run(_search(settings, backend, query, args.k or settings.k))
    except DependencyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _print_neighbours(neighbours, f"{backend} · {settings.collection}")
    return 0


def _settings(args: argparse.Namespace) -> VectorSettings:
    """Settings from the environment and the arguments; the case schema is the fraud one
    unless RTINFER_VECTORS_CASE_PROPERTIES sets another."""
    from services.fraud.cases import FRAUD_CASE_SCHEMA  # pandas loads only when a command runs

    overrides: dict[str, object] = {}
    if args.collection:
        overrides["collection"] = args.collection
    if getattr(args, "batch_size", None):
        overrides["import_batch_size"] = args.batch_size
    return VectorSettings(**overrides).with_default_schema(FRAUD_CASE_SCHEMA)  # type: ignore[arg-type]


def _embedded_cases(args: argparse.Namespace) -> tuple[list[Case], FloatMatrix]:
    from services.fraud.cases import read_cases  # pandas loads only when a command runs

    if args.model_dir:
        standardizer = Standardizer.from_model_dir(args.model_dir)
        cases, features = read_cases(args.cases, standardizer.feature_names)
    else:
        names = [name.strip() for name in args.features.split(",") if name.strip()]
        cases, features = read_cases(args.cases, names)
        standardizer = Standardizer.fit(names, features)
    return cases, standardizer.embed(features)


def _query_vector(args: argparse.Namespace) -> FloatMatrix:
    if args.vector:
        return np.asarray([[float(part) for part in args.vector.split(",")]], dtype=np.float32)
    if not args.cases or not (args.features or args.model_dir):
        raise ValueError("--case-id needs --cases and --features or --model-dir")
    cases, vectors = _embedded_cases(args)
    for case, vector in zip(cases, vectors, strict=True):
        if case.id == args.case_id:
            return vector[None, :]
    raise ValueError(f"case {args.case_id} is not in {args.cases}")


async def _index(
    settings: VectorSettings, backend: Backend, cases: list[Case], vectors: FloatMatrix, progress: bool
) -> int:
    index = make_index(settings, backend)
    try:
        return await index_cases(index, cases, vectors, settings.import_batch_size, progress=progress)
    finally:
        await index.close()


async def _search(settings: VectorSettings, backend: Backend, query: FloatMatrix, k: int) -> list[Neighbour]:
    index = make_index(settings, backend)
    try:
        return (await index.search(query, k))[0]
    finally:
        await index.close()


def _print_neighbours(neighbours: list[Neighbour], title: str) -> None:
    """One row per neighbour: rank, id, distance, label, then its stored properties by name."""
    names = list(dict.fromkeys(name for n in neighbours for name in n.properties if name != "timestamp"))
    table = Table(title=title)
    for column in ("#", "case", "distance", "label"):
        table.add_column(column, justify="right" if column in {"#", "distance"} else "left")
    for name in names:
        numeric = all(_is_number(n.properties.get(name)) for n in neighbours)
        table.add_column(name, justify="right" if numeric else "left")
    table.add_column("timestamp")
    for rank, neighbour in enumerate(neighbours, start=1):
        extra = neighbour.properties
        table.add_row(
            str(rank),
            neighbour.id,
            f"{neighbour.distance:.4f}",
            str(neighbour.label),
            *(str(extra.get(name)) for name in names),
            str(extra.get("timestamp")),
        )
    Console().print(table)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
