"""Dependencies that stop, slow down or refuse while payments stream in at a steady rate (T3, T4,
T6), against the real stack, each audited by set difference: inputs against predictions ∪ dead
letters. The faults are a real SIGSTOP of the KServe model server and a loopback proxy
(tests/chaos/proxy.py) between the scoring process and Redis, the model server and Weaviate."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from urllib.parse import urlsplit

from events.scoring import Degraded
from services.adapters.kserve.client import KServeClientSettings
from tests.chaos.proxy import fault_proxy
from tests.chaos.streams import (
    assignments,
    audited,
    drained,
    grown,
    paced_stream,
    predictions_of,
    scoring_process,
    topics_of,
)
from tests.integration.scoring_env import ScoringEnv

RATE = 200.0


async def test_t3_model_server_stopped_ten_seconds(env: ScoringEnv, tmp_path: Path, chaos_report) -> None:  # type: ignore[no-untyped-def]
    """SIGSTOP the model server for 10 s at 200 events/s: the scoring service retries inside its
    budget, holds its partitions (heartbeats go on; no rebalance) and drains afterwards."""
    settings = env.settings("t3", max_records=100)
    count = 4000
    await topics_of(env, settings)
    log = tmp_path / "scoring.log"
    stream = paced_stream(env, settings, count, RATE, "/chaos/t3")
    async with scoring_process(settings, log, log_level="INFO") as process:
        await grown(env, settings.topics.predictions, 600, log, process)
        os.kill(env.server.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(10)
        finally:
            os.kill(env.server.pid, signal.SIGCONT)
        sent = await stream
        await drained(env, settings)
        assert process.poll() is None, log.read_text()[-3000:]
        given = assignments(log)
    result, _, _ = await audited(env, settings, count)
    chaos_report(**result.figures(), stopped_s=10, assignments=given)
    assert sent.acknowledged == count
    assert result.lost == set()
    assert given == 1, "the stopped model server must not cost the consumer its partitions"


async def test_t6_transient_503s_from_the_model_server(env: ScoringEnv, tmp_path: Path, chaos_report) -> None:  # type: ignore[no-untyped-def]
    """Five windows of 1.5 s in which every model request is answered 503 (and open connections
    cut), as a load balancer or Knative's activator answers while the model pods are away: every
    payment is still scored, none is dead-lettered."""
    rest = urlsplit(env.server.rest_url)
    with fault_proxy(rest.hostname or "127.0.0.1", rest.port or 80, "model") as proxy:
        model = KServeClientSettings(target=f"http://{proxy.address}", model_name="fraud", timeout_s=5.0)
        settings = env.settings("t6", max_records=100, model=model)
        count = 3000
        await topics_of(env, settings)
        log = tmp_path / "scoring.log"
        stream = paced_stream(env, settings, count, RATE, "/chaos/t6")
        async with scoring_process(settings, log) as process:
            await grown(env, settings.topics.predictions, 300, log, process)
            for _ in range(5):
                proxy.set(http_503=True)
                await asyncio.sleep(1.5)
                proxy.set()
                await asyncio.sleep(1.0)
            await stream
            await drained(env, settings)
            assert process.poll() is None, log.read_text()[-3000:]
        answered = proxy.counters.answered_503 + proxy.counters.cut
    result, _, dead = await audited(env, settings, count)
    chaos_report(**result.figures(), refused=answered)
    assert answered > 0, "the proxy must have refused model requests, or the scenario tested nothing"
    assert result.lost == set()
    assert dead == [], "a transient 503 is retried, never a dead letter"


async def test_t4_slow_and_stalled_dependencies(env: ScoringEnv, tmp_path: Path, chaos_report) -> None:  # type: ignore[no-untyped-def]
    """Redis, the model server and Weaviate (REST and gRPC) behind delaying proxies: 30 ms on every
    chunk, then Weaviate stalled 6 s, then Redis stalled 4 s, then the model 300 ms slow. The
    timeouts hold: predictions keep flowing while Weaviate hangs (flagged `no_neighbours`), a
    stalled feature store is retried, and every prediction is complete or flagged degraded."""
    redis = urlsplit(env.feast.redis_url)
    rest = urlsplit(env.server.rest_url)
    weaviate = urlsplit(env.vectors.weaviate_url)
    with (
        fault_proxy(redis.hostname or "127.0.0.1", redis.port or 6379, "redis") as redis_proxy,
        fault_proxy(rest.hostname or "127.0.0.1", rest.port or 80, "model") as model_proxy,
        fault_proxy(weaviate.hostname or "127.0.0.1", weaviate.port or 8080, "weaviate") as http_proxy,
        fault_proxy(
            weaviate.hostname or "127.0.0.1", env.vectors.weaviate_grpc_port, "weaviate-grpc"
        ) as grpc_proxy,
    ):
        proxies = (redis_proxy, model_proxy, http_proxy, grpc_proxy)
        database = redis.path.lstrip("/") or "0"
        settings = env.settings(
            "t4",
            max_records=100,
            neighbours_for="all",  # every batch searches, so the stall meets every batch
            feast=env.feast.model_copy(update={"redis_url": f"redis://{redis_proxy.address}/{database}"}),
            model=KServeClientSettings(
                target=f"http://{model_proxy.address}", model_name="fraud", timeout_s=2.0
            ),
            vectors=env.vectors.model_copy(
                update={"weaviate_url": f"http://{http_proxy.address}", "weaviate_grpc_port": grpc_proxy.port}
            ),
        )
        count = 4000
        await topics_of(env, settings)
        log = tmp_path / "scoring.log"
        stream = paced_stream(env, settings, count, RATE, "/chaos/t4")
        async with scoring_process(settings, log) as process:
            await grown(env, settings.topics.predictions, 300, log, process)
            for proxy in proxies:
                proxy.set(delay_s=0.03)
            await asyncio.sleep(3)
            grpc_proxy.set(delay_s=0.03, stalled=True)
            await asyncio.sleep(6)
            grpc_proxy.set(delay_s=0.03)
            redis_proxy.set(delay_s=0.03, stalled=True)
            await asyncio.sleep(4)
            redis_proxy.set(delay_s=0.03)
            model_proxy.set(delay_s=0.3)
            await asyncio.sleep(3)
            for proxy in proxies:
                proxy.set()
            await stream
            await drained(env, settings)
            assert process.poll() is None, log.read_text()[-3000:]
        stalled_s = round(sum(proxy.counters.stalled_s for proxy in proxies), 1)
    result, predicted, _ = await audited(env, settings, count)
    predictions = predictions_of(predicted)
    no_neighbours = sum(Degraded.NO_NEIGHBOURS.value in p.degraded for p in predictions)
    incomplete = [
        p for p in predictions if not p.neighbours and Degraded.NO_NEIGHBOURS.value not in p.degraded
    ]
    chaos_report(**result.figures(), degraded=no_neighbours, stalled_s=stalled_s)
    assert result.lost == set()
    assert incomplete == [], f"{len(incomplete)} predictions without neighbours and without the flag"
    assert no_neighbours > 0, "predictions must keep flowing, flagged, while Weaviate hangs"
