"""Run `python -m services.model` as a child process on free ports (benchmarks, demos, tooling)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx


class ModelServerStartError(RuntimeError):
    """The child server exited or never became ready; the message carries its log tail."""


@dataclass(frozen=True)
class RunningModelServer:
    rest_url: str  # http://127.0.0.1:PORT
    grpc_target: str  # 127.0.0.1:PORT
    pid: int
    log_path: Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_model_server(
    model_dir: Path,
    *,
    model_name: str = "fraud",
    extra_models: Mapping[str, Path] | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout_s: float = 60.0,
) -> Iterator[RunningModelServer]:
    """Start the server, wait until REST and gRPC answer, stop it (SIGTERM, then SIGKILL) on exit.

    The server's log lives in a temporary folder removed on exit; failures quote its tail.

    Args:
        extra_models: name -> artifact directory of models served beside `model_name`
            (challengers); the server is ready once every one has loaded.
    """
    arguments = [
        *(f"--extra-model={name}={directory}" for name, directory in (extra_models or {}).items()),
        *extra_args,
    ]
    with tempfile.TemporaryDirectory(prefix="rtinfer-model-server-") as log_dir:
        yield from _run(Path(log_dir) / "server.log", model_dir, model_name, arguments, ready_timeout_s)


def _run(
    log_path: Path, model_dir: Path, model_name: str, extra_args: Sequence[str], ready_timeout_s: float
) -> Iterator[RunningModelServer]:
    http_port, grpc_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "services.model", "--model-dir", str(model_dir), "--model-name", model_name,
        "--http-port", str(http_port), "--grpc-port", str(grpc_port), *extra_args,
    ]  # fmt: skip
    with log_path.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    server = RunningModelServer(
        f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", process.pid, log_path
    )
    try:
        _wait_ready(process, server, ready_timeout_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def log_tail(server: RunningModelServer, characters: int = 3000) -> str:
    return server.log_path.read_text(errors="replace")[-characters:]


def _wait_ready(process: subprocess.Popen[bytes], server: RunningModelServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ModelServerStartError(f"model server exited with {process.returncode}:\n{log_tail(server)}")
        try:
            if httpx.get(f"{server.rest_url}/v2/health/ready", timeout=1.0).status_code == 200:
                with grpc.insecure_channel(server.grpc_target) as channel:
                    grpc.channel_ready_future(channel).result(timeout=max(1.0, deadline - time.monotonic()))
                return
        except (httpx.TransportError, grpc.FutureTimeoutError):
            pass
        time.sleep(0.2)
    raise ModelServerStartError(f"model server not ready within {timeout_s:.0f} s:\n{log_tail(server)}")
