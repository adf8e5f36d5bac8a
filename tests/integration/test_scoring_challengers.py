"""Champion and challengers on the real stack: one KServe model server serving two model
versions (champion and a challenger), a second server with another challenger, labelled payments
streamed through Kafka. Every input gets one prediction and one shadow prediction per challenger;
the second server stopped mid-stream costs the champion nothing (audited by set difference)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from events import PREDICTION, SHADOW_PREDICTION, Decoded, KafkaRecord, ShadowRole, decode_kafka
from rtinfer.model.launcher import running_model_server
from rtinfer.model.train import TrainingConfig, train_from_frame
from rtinfer.producer.kafka import produce_records
from rtinfer.producer.payments import payment_records
from services.adapters.kafka.settings import KafkaSettings
from services.core.scoring.challengers import canary_side
from services.scoring.app import ScoringApp
from services.scoring.settings import ChallengerSettings, ScoringSettings
from tests.integration.kafka_helpers import create_topics, read_to_end, wait_caught_up
from tests.integration.scoring_env import ScoringEnv

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def running(settings: ScoringSettings) -> AsyncIterator[ScoringApp]:
    service = ScoringApp(settings, ingress="kafka")
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def _events(records: list) -> list:  # type: ignore[type-arg]
    events = []
    for record in records:
        result = decode_kafka(record.key, record.value, list(record.headers))
        assert isinstance(result, Decoded), result
        events.append(result.event)
    return events


async def _challenger_settings(
    env: ScoringEnv,
    suffix: str,
    champion_url: str,
    challengers: list[ChallengerSettings],
    **overrides: object,
) -> ScoringSettings:
    """Settings with these challengers and the champion at `champion_url`; their topics created."""
    base = env.settings(suffix)
    settings = base.model_copy(
        update={
            "model": base.model.model_copy(update={"target": champion_url}),
            "challengers": challengers,
            # Completeness is the point here, not the wait: a busy test machine can hold a
            # healthy challenger's answer past the default 0.25 s.
            "shadow_wait_s": 2.0,
            **overrides,
        }
    )
    topics = settings.topics
    await create_topics(
        env.kafka.bootstrap,
        topics.payments,
        topics.predictions,
        topics.explanations,
        topics.dlq,
        topics.shadow_predictions,
    )
    return settings


def _challenger(env: ScoringEnv, directory: Path, seed: int, iterations: int) -> str:
    assert env.training is not None
    artifact = train_from_frame(env.training, TrainingConfig(seed=seed, num_iterations=iterations)).artifact
    artifact.save(directory)
    return artifact.metadata.version


async def test_shadow_scores_for_every_input_and_a_stopped_challenger_costs_nothing(
    env: ScoringEnv, tmp_path: Path
) -> None:
    near_version = _challenger(env, tmp_path / "near", seed=11, iterations=60)
    far_version = _challenger(env, tmp_path / "far", seed=12, iterations=40)
    assert len({env.artifact.metadata.version, near_version, far_version}) == 3
    kafka = KafkaSettings(bootstrap=env.kafka.bootstrap)
    records = list(payment_records(env.payments.iloc[:6000], "/tests/challengers"))
    first, second = records[:3000], records[3000:]
    with (
        running_model_server(env.model_dir, extra_models={"fraud-near": tmp_path / "near"}) as server,
        running_model_server(tmp_path / "far", model_name="fraud-far") as far,
    ):
        settings = await _challenger_settings(
            env,
            "challengers",
            server.rest_url,
            [
                ChallengerSettings(name="fraud-near", model_dir=tmp_path / "near"),
                ChallengerSettings(name="fraud-far", url=far.rest_url, timeout_s=0.3),
            ],
        )
        topics = settings.topics
        async with running(settings):
            assert (await produce_records(first, kafka=kafka, topic=topics.payments)).acknowledged == 3000
            await wait_caught_up(kafka.bootstrap, settings.group_id, topics.payments, timeout_s=180)
            os.kill(far.pid, signal.SIGKILL)  # the second challenger's server goes away mid-stream
            assert (await produce_records(second, kafka=kafka, topic=topics.payments)).acknowledged == 3000
            await wait_caught_up(kafka.bootstrap, settings.group_id, topics.payments, timeout_s=180)
        predictions = _events(await read_to_end(kafka.bootstrap, topics.predictions))
        shadows = _events(await read_to_end(kafka.bootstrap, topics.shadow_predictions))
        letters = await read_to_end(kafka.bootstrap, topics.dlq)

    inputs = {record_id(r) for r in records}
    by_input = {p.data.input_id: p for p in predictions}
    assert {p.type for p in predictions} == {PREDICTION} and not letters
    assert inputs - set(by_input) == set()  # lost: none
    assert {p.data.model_name for p in predictions} == {"fraud"}  # shadow only: the champion decides
    near = {s.data.input_id: s for s in shadows if s.data.model_name == "fraud-near"}
    far_scores = {s.data.input_id: s for s in shadows if s.data.model_name == "fraud-far"}
    assert {s.type for s in shadows} == {SHADOW_PREDICTION}
    assert inputs - set(near) == set()  # every input has its shadow from the healthy challenger
    first_ids = {record_id(r) for r in first}
    assert first_ids - set(far_scores) == set()  # and from the far one while its server ran
    assert set(far_scores) <= inputs
    for shadow in [*near.values(), *far_scores.values()]:
        prediction = by_input[shadow.data.input_id]
        assert shadow.data.prediction_id == prediction.id == shadow.causationid
        assert shadow.data.role is ShadowRole.CHALLENGER and shadow.data.decided_by == "fraud"
    assert {s.data.model_version for s in near.values()} == {near_version}
    assert {s.data.model_version for s in far_scores.values()} == {far_version}
    # Different models, same inputs: the scores differ, but they agree on most decisions.
    paired = [(by_input[i].data.score, near[i].data.score) for i in inputs]
    assert any(abs(a - b) > 1e-6 for a, b in paired)

    def figures(part: list[KafkaRecord]) -> str:
        stages = [by_input[record_id(r)].data.latency_ms for r in part]
        batch = np.percentile([sum(s.values()) for s in stages], [50, 99])
        wait = np.percentile([s["shadow_wait"] for s in stages], [50, 99])
        return f"stages p50/p99 {batch[0]:.1f}/{batch[1]:.1f} ms, shadow wait {wait[0]:.1f}/{wait[1]:.1f} ms"

    print(
        f"champion, far challenger up: {figures(first)}; far challenger down: {figures(second)}; "
        f"far shadows {len(far_scores)} of {len(inputs)}"
    )


async def test_canary_share_by_card_on_the_real_stack(env: ScoringEnv, tmp_path: Path) -> None:
    version = _challenger(env, tmp_path / "next", seed=13, iterations=60)
    kafka = KafkaSettings(bootstrap=env.kafka.bootstrap)
    records = list(payment_records(env.payments.iloc[:3000], "/tests/canary"))
    with running_model_server(env.model_dir, extra_models={"fraud-next": tmp_path / "next"}) as server:
        settings = await _challenger_settings(
            env,
            "canary",
            server.rest_url,
            [ChallengerSettings(name="fraud-next", model_dir=tmp_path / "next")],
            canary_share=0.3,
        )
        topics = settings.topics
        async with running(settings):
            await produce_records(records, kafka=kafka, topic=topics.payments)
            await wait_caught_up(kafka.bootstrap, settings.group_id, topics.payments, timeout_s=180)
        predictions = _events(await read_to_end(kafka.bootstrap, topics.predictions))
        shadows = _events(await read_to_end(kafka.bootstrap, topics.shadow_predictions))

    inputs = {record_id(r) for r in records}
    by_input = {p.data.input_id: p for p in predictions}
    shadow_of = {s.data.input_id: s for s in shadows}
    assert inputs - set(by_input) == set() and inputs - set(shadow_of) == set()
    for input_id, prediction in by_input.items():
        card = prediction.data.entity["card_id"]
        shadow = shadow_of[input_id].data
        if canary_side(card, 0.3):
            assert (prediction.data.model_name, prediction.data.model_version) == ("fraud-next", version)
            assert (shadow.role, shadow.model_name) == (ShadowRole.CHAMPION, "fraud")
        else:
            assert prediction.data.model_name == "fraud"
            assert (shadow.role, shadow.model_name) == (ShadowRole.CHALLENGER, "fraud-next")


def record_id(record: KafkaRecord) -> str:
    headers = dict(record.headers)
    return headers["ce_id"].decode()
