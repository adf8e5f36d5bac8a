"""Membership faults (T8: scoring processes joining and leaving one consumer group) and the push
path's audit (a client that posts CloudEvents and retries on 429/5xx, as Knative's dispatcher
does, while the service is killed and restarted), against the real stack, audited by set
difference: inputs against predictions ∪ dead letters."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

from events import Mode, encode_http
from rtinfer.producer.payments import payment_events
from tests.chaos.streams import audited, drained, grown, paced_stream, stop, tail, topics_of
from tests.integration.scoring_env import ScoringEnv
from tests.integration.scoring_process import start_scoring


async def test_t8_ten_rebalances_as_processes_join_and_leave(
    env: ScoringEnv, tmp_path: Path, chaos_report
) -> None:  # type: ignore[no-untyped-def]
    """10,000 payments at 250/s while the group changes ten times: processes join, leave with
    SIGTERM, and one leaves with SIGKILL. Every membership change is a rebalance; nothing is lost."""
    settings = env.settings("t8", max_records=100, shutdown_timeout_s=15.0)
    count = 10_000
    await topics_of(env, settings)
    log = tmp_path / "scoring.log"
    stream = paced_stream(env, settings, count, 250.0, "/chaos/t8")
    members: list[subprocess.Popen[bytes]] = [start_scoring(settings, log, log_level="INFO")]
    changes = 0
    try:
        await grown(env, settings.topics.predictions, 300, log, *members)
        # join, join, leave, join, leave (SIGKILL), join, leave, join, leave, join
        plan = ["join", "join", "leave", "join", "kill", "join", "leave", "join", "leave", "join"]
        for step in plan:
            if step == "join":
                members.append(start_scoring(settings, log, log_level="INFO"))
            else:
                leaving = members.pop(0)
                stop(leaving, signal.SIGKILL if step == "kill" else signal.SIGTERM)
            changes += 1
            await asyncio.sleep(4)
        sent = await stream
        await drained(env, settings)
        for member in members:
            assert member.poll() is None, tail(log)
    finally:
        for member in members:
            stop(member)
    given = log.read_text(errors="replace").count("partitions assigned:")
    result, _, _ = await audited(env, settings, count)
    chaos_report(**result.figures(), changes=changes, assignments=given)
    assert sent.acknowledged == count
    assert result.lost == set()
    assert result.unstable_ids == set(), "a redelivered input must keep its prediction id"
    joined = 1 + plan.count("join")
    assert given >= joined, f"{given} assignments for {joined} processes that joined the group"


@dataclass
class PushFigures:
    posted: int = 0
    retried: int = 0
    rejected: int = 0


class _Retry(Exception):
    """429, 5xx or no connection: the sender tries again, as Knative's dispatcher does."""


async def _post_until_accepted(
    client: httpx.AsyncClient, url: str, event: object, figures: PushFigures
) -> None:
    headers, body = encode_http(event, Mode.BINARY)  # type: ignore[arg-type]
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(_Retry),
        wait=wait_random_exponential(multiplier=0.1, max=2.0),
        stop=stop_after_delay(180),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            try:
                reply = await client.post(url, content=body, headers=headers)
            except httpx.TransportError as error:
                figures.retried += 1
                raise _Retry(str(error)) from error
            if reply.status_code == 429 or reply.status_code >= 500:
                figures.retried += 1
                raise _Retry(f"HTTP {reply.status_code}")
    figures.posted += 1
    if reply.status_code == 400:
        figures.rejected += 1
    else:
        assert reply.status_code == 200, f"HTTP {reply.status_code}: {reply.text[:500]}"


async def test_push_mode_kill_and_restart_loses_nothing(
    env: ScoringEnv, tmp_path: Path, free_port: int, chaos_report
) -> None:  # type: ignore[no-untyped-def]
    """3,000 payments posted one per request by 16 senders retrying with backoff; the service is
    SIGKILLed three times and restarted on the same port. A 2xx means the outputs are in Kafka,
    so every payment ends with a prediction or a dead letter."""
    settings = env.settings("push", http_port=free_port, http_max_in_flight=8)
    count = 3000
    await topics_of(env, settings)
    log = tmp_path / "scoring.log"
    url = f"http://127.0.0.1:{free_port}/"
    events = list(payment_events(env.payments.iloc[:count], "/chaos/push"))
    figures = PushFigures()
    queue: asyncio.Queue[object] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)

    progress = asyncio.Condition()

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await _post_until_accepted(client, url, queue.get_nowait(), figures)
            async with progress:
                progress.notify_all()

    async def posted(at_least: int) -> None:
        async with progress:
            await progress.wait_for(lambda: figures.posted >= at_least)

    process = start_scoring(settings, log, ingress="http")
    kills = 0
    try:
        async with httpx.AsyncClient(timeout=30.0) as client:
            senders = asyncio.gather(*(sender(client) for _ in range(16)))
            for threshold in (500, 1200, 1900):
                reached = asyncio.ensure_future(posted(threshold))
                await asyncio.wait([reached, senders], return_when=asyncio.FIRST_COMPLETED)
                reached.cancel()
                stop(process, signal.SIGKILL)
                kills += 1
                await asyncio.sleep(1)
                process = start_scoring(settings, log, ingress="http")
            await senders
    finally:
        stop(process)
    result, _, _ = await audited(env, settings, count)
    chaos_report(**result.figures(), kills=kills, retried=figures.retried)
    assert figures.posted == count, tail(log)
    assert figures.rejected == 0
    assert result.lost == set()
    assert result.unstable_ids == set(), "a re-posted payment must keep its prediction id"
    assert figures.retried > 0, "the kills must have made senders retry, or the scenario tested nothing"
