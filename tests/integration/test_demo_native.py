"""`rtinfer demo --stack native` scores the replay exactly as the embedded demo does.

The same stream goes through the embedded path (in-memory broker, Feast on SQLite, the model
class in process, Milvus Lite) and the native one (real Kafka, Feast on real Redis, the KServe
model server over REST, Weaviate). Both replay in lock step, so every payment must see the same
feature values and get the same score and decision.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from rtinfer.demo import prepare
from rtinfer.demo.native import stream_native
from rtinfer.demo.stream import embedded_settings, seeded_state, stream_embedded
from services.adapters.feast.settings import FeastSettings
from services.adapters.vectors.settings import VectorSettings
from services.model.inprocess import InProcessModel
from tests.servers import KafkaEndpoint, RedisEndpoint, WeaviateEndpoint


def test_native_replay_scores_like_the_embedded_one(
    kafka: KafkaEndpoint,
    redis_server: RedisEndpoint,
    weaviate_server: WeaviateEndpoint,
    unique_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTINFER_KAFKA_BOOTSTRAP", kafka.bootstrap)
    monkeypatch.setenv("RTINFER_REDIS_URL", redis_server.url)
    monkeypatch.setenv(
        "RTINFER_WEAVIATE_URL", f"http://{weaviate_server.http_host}:{weaviate_server.http_port}"
    )
    monkeypatch.setenv("RTINFER_WEAVIATE_GRPC_PORT", str(weaviate_server.grpc_port))
    console = Console(quiet=True)
    payments = prepare.load_or_generate(tmp_path, console, 42, None)
    history, stream = prepare.split(payments, 1500)
    feast = FeastSettings(
        repo_dir=tmp_path / "feast",
        data_dir=tmp_path / "features",
        project=unique_name[:40].replace("-", "_"),
    )
    prepare.prepare_features(history, feast, console)
    artifact, frame = prepare.prepare_model(history, feast, tmp_path / "model", console)
    vectors = VectorSettings(
        backend="milvus", collection="Cases", milvus_path=(tmp_path / "cases.db").resolve()
    )
    asyncio.run(prepare.prepare_vectors(history, frame, feast, artifact, vectors, console))
    scoring, writer = embedded_settings(feast, vectors, tmp_path / "model")
    state = asyncio.run(seeded_state(history))
    embedded = asyncio.run(
        stream_embedded(stream, scoring, writer, InProcessModel(artifact), state, malformed=0)
    )

    collection = "Native" + unique_name.replace("-", "")[-12:]
    native = asyncio.run(
        stream_native(
            stream,
            history,
            frame,
            tmp_path,
            artifact,
            console,
            project=feast.project + "_n",
            collection=collection,
        )
    )

    assert len(embedded.predictions) == len(native.predictions) == len(stream)
    by_input = {p.data.input_id: p.data for p in embedded.predictions}
    assert set(by_input) == {p.data.input_id for p in native.predictions}
    names = artifact.feature_names
    for prediction in native.predictions:
        twin = by_input[prediction.data.input_id]
        for name in names:
            ours, theirs = prediction.data.features[name].value, twin.features[name].value
            assert (ours is None) == (theirs is None), (prediction.data.input_id, name)
            if ours is not None and theirs is not None:
                assert np.isclose(ours, theirs, rtol=1e-6, atol=1e-6), (prediction.data.input_id, name)
        # The model server takes FP32 inputs; in process the booster gets the same float32 values.
        assert abs(prediction.data.score - twin.score) < 1e-5, prediction.data.input_id
    flagged = [p for p in native.predictions if p.data.decision.value != "approve"]
    assert flagged, "the planted fraud should flag some payments"
    assert {p.data.input_id for p in native.explanations} == {p.data.input_id for p in embedded.explanations}
