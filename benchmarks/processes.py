"""N scoring services as real processes in one consumer group, as Knative or KEDA scale them.

Each is `python -m services.scoring`, the deployable, configured only by RTINFER_SCORING_*
variables (nested with __) and serving /readyz on its own port. They start together, are
waited on until every one is ready and the group has settled with all of them, and stop with
SIGTERM (each finishes its batch in flight and commits). Their CPU is sampled as scoring1..N.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from benchmarks.cpu import CpuSampler
from benchmarks.environment import BenchEnv
from benchmarks.latency import StageLog
from benchmarks.runners import TopicSet
from benchmarks.scaling import process_names
from rtinfer.model.launcher import free_port
from services.adapters.kafka.settings import KafkaSettings
from services.adapters.kserve.client import Protocol as ModelProtocol
from services.adapters.settings_help import settings_env
from services.scoring.settings import ScoringSettings

log = logging.getLogger("rtinfer.bench")
READY_TIMEOUT_S = 180.0  # start-up imports Feast, Weaviate and gRPC clients; two cores are shared
SETTLE_TIMEOUT_S = 60.0


class ScoringProcessError(RuntimeError):
    """A scoring process exited or never became ready; the message quotes its log."""


class ProcessRunner:
    """`count` scoring processes in the phase's consumer group (Kafka pull; /readyz served)."""

    link_header = "ce_causationid"
    settle_before_backlog = True  # joined and settled before the backlog exists: no rebalance in it

    def __init__(
        self,
        env: BenchEnv,
        protocol: ModelProtocol,
        max_records: int,
        batch_timeout_ms: int,
        *,
        count: int,
        sampler: CpuSampler,
        log_dir: Path,
        neighbours_for: str = "flagged",
        variant: str = "rtinfer",
    ) -> None:
        self.variant = variant
        self.processes: int | None = count
        self.name = f"{variant}-{count}p"  # topic-safe and unique per process count
        self._env = env
        self._protocol: ModelProtocol = protocol
        self._max_records = max_records
        self._batch_timeout_ms = batch_timeout_ms
        self._neighbours_for = neighbours_for
        self._count = count
        self._sampler = sampler
        self._log_dir = log_dir
        self._running: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        self.stages = StageLog()  # stays empty: timings come from the predictions' latency_ms

    async def start(self, topics: TopicSet) -> None:
        settings = self._env.scoring_settings(
            topics.prefix, self._protocol, self._max_records, self._batch_timeout_ms, self._neighbours_for
        )
        ports = []
        try:
            for name in process_names(self._count):
                port = free_port()
                log_path = self._log_dir / f"{topics.prefix}-{name}.log"
                process = _spawn(settings.model_copy(update={"http_port": port}), log_path)
                self._running.append((name, process, log_path))
                self._sampler.watch(name, process.pid)
                ports.append(port)
            await asyncio.gather(
                *(
                    _wait_ready(process, port, log_path)
                    for (_, process, log_path), port in zip(self._running, ports, strict=True)
                )
            )
            await wait_group_settled(self._env.kafka, topics.group, self._count, SETTLE_TIMEOUT_S)
        except BaseException:
            await self.stop()
            raise
        log.info("%s: %d scoring processes ready in group %s", self.name, self._count, topics.group)

    async def stop(self) -> None:
        running, self._running = self._running, []
        for _, process, _ in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # drain: the batch in flight finishes and commits
        for name, process, log_path in running:
            code = await asyncio.to_thread(_wait_or_kill, process)
            self._sampler.unwatch(name)
            if code not in (0, -signal.SIGTERM):
                log.warning("%s (%s) exited with %s; its log: %s", name, self.name, code, _tail(log_path))


def _spawn(settings: ScoringSettings, log_path: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, **settings_env(settings)}
    command = [sys.executable, "-m", "services.scoring", "--ingress", "both", "--log-level", "WARNING"]
    with log_path.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=environment)  # noqa: S603


def _wait_or_kill(process: subprocess.Popen[bytes], timeout_s: float = 40.0) -> int:
    """Wait for the SIGTERM drain (bounded by the service's shutdown timeout), then kill."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=10)


def _tail(log_path: Path, characters: int = 2000) -> str:
    try:
        return log_path.read_text(errors="replace")[-characters:]
    except OSError:
        return "(no log)"


async def _wait_ready(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    """Poll the process's /readyz until it answers 200; ScoringProcessError if it exits or stalls."""
    url = f"http://127.0.0.1:{port}/readyz"
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer yet"
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ScoringProcessError(
                    f"scoring process exited with {process.returncode}: {_tail(log_path)}"
                )
            try:
                answer = await client.get(url)
            except httpx.HTTPError as error:
                last = repr(error)
            else:
                if answer.status_code == httpx.codes.OK:
                    return
                last = answer.text
            await asyncio.sleep(0.5)
    raise ScoringProcessError(
        f"scoring process not ready in {READY_TIMEOUT_S:.0f} s ({last}): {_tail(log_path)}"
    )


def group_settled(description: dict[str, Any], members: int) -> bool:
    """Whether a described consumer group is Stable with exactly `members` members."""
    return description.get("state") == "Stable" and len(description.get("members", [])) == members


async def wait_group_settled(kafka: KafkaSettings, group_id: str, members: int, timeout_s: float) -> None:
    """Wait until `group_id` is Stable with `members` members (partitions assigned to all)."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka_kwargs())
    await admin.start()
    deadline = time.monotonic() + timeout_s
    seen: dict[str, Any] = {}
    try:
        while time.monotonic() < deadline:
            for response in await admin.describe_consumer_groups([group_id]):
                for described in response.to_object()["groups"]:
                    seen = described
                    if group_settled(described, members):
                        return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    state, joined = seen.get("state"), len(seen.get("members", []))
    raise ScoringProcessError(
        f"group {group_id} not settled in {timeout_s:.0f} s: {state}, {joined}/{members} members"
    )
