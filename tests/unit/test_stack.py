"""The stack manager with stand-in processes: idempotent up, port clash, rollback, down."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from rtinfer.stack.manager import Stack
from rtinfer.stack.process import Launch, StackError, read_cmdline
from rtinfer.stack.servers import Server, require_tool
from rtinfer.stack.settings import StackSettings

pytestmark = pytest.mark.unit


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fake_server(name: str, tmp_path: Path, port: int, healthy: bool = True) -> Server:
    """A stand-in server: a Python process that sleeps (a fake, not a real server)."""
    marker = f"fake-{name}-{port}"

    def prepare() -> Launch:
        argv = [sys.executable, "-c", "import time, sys; time.sleep(600)", marker]
        return Launch(name, argv, {}, tmp_path)

    return Server(name, (port,), prepare, lambda: healthy, markers=(marker,))


@pytest.fixture
def settings(tmp_path: Path) -> StackSettings:
    return StackSettings(state_dir=tmp_path / "stack", start_timeout_s=2.0)


def test_up_is_idempotent_and_down_stops(settings: StackSettings, tmp_path: Path) -> None:
    servers = [_fake_server("alpha", tmp_path, _free_port()), _fake_server("beta", tmp_path, _free_port())]
    stack = Stack(settings, servers=servers)
    try:
        assert stack.up() == ["alpha", "beta"]
        pids = {status.name: status.pid for status in stack.status()}
        assert all(pids.values())
        assert stack.up() == []  # second up starts nothing
        assert {status.name: status.pid for status in stack.status()} == pids
    finally:
        assert sorted(stack.down()) == ["alpha", "beta"]
    assert all(status.pid is None for status in stack.status())
    for pid in pids.values():
        assert "fake-" not in read_cmdline(pid or 0)


def test_port_in_use_names_service_and_starts_nothing(settings: StackSettings, tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]
    servers = [_fake_server("alpha", tmp_path, _free_port()), _fake_server("beta", tmp_path, taken)]
    stack = Stack(settings, servers=servers)
    try:
        with pytest.raises(StackError, match=rf"beta: port 127.0.0.1:{taken} is already in use"):
            stack.up()
        assert all(status.pid is None for status in stack.status())
    finally:
        busy.close()


def test_unhealthy_start_rolls_back_with_log_tail(settings: StackSettings, tmp_path: Path) -> None:
    servers = [
        _fake_server("alpha", tmp_path, _free_port()),
        _fake_server("sick", tmp_path, _free_port(), False),
    ]
    stack = Stack(settings, servers=servers)
    with pytest.raises(StackError, match=r"sick \(pid \d+\) not healthy after 2s; last log lines"):
        stack.up()
    assert all(status.pid is None for status in stack.status())


def test_down_ignores_pid_files_of_foreign_processes(settings: StackSettings, tmp_path: Path) -> None:
    server = _fake_server("alpha", tmp_path, _free_port())
    stack = Stack(settings, servers=[server])
    stack.run_dir.mkdir(parents=True)
    # Our own pid: a live process, but not the one the stack would have started.
    (stack.run_dir / "alpha.pid").write_text(f"{__import__('os').getpid()}\n")
    assert stack.down() == []


def test_missing_tool_names_it_and_how_to_get_it() -> None:
    with pytest.raises(StackError, match="'no-such-tool-xyz' is not on PATH; apt-get install it"):
        require_tool("no-such-tool-xyz", "apt-get install it")
