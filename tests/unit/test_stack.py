"""The stack manager with stand-in processes (idempotent up, port clash, rollback, down) and the
system-packages script with stand-in tools."""

from __future__ import annotations

import shutil
import socket
import subprocess
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


# -- scripts/ensure-system-packages.sh, with stand-in tools on a PATH of our own -----------------

ENSURE = Path(__file__).resolve().parents[2] / "scripts" / "ensure-system-packages.sh"


def _stub_path(tmp_path: Path, tools: dict[str, str]) -> str:
    """A folder holding stand-in executables (name -> shell body), to be the whole PATH."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in tools.items():
        stub = stubs / name
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    return str(stubs)


def _ensure(path: str) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run(
        [bash, str(ENSURE)], env={"PATH": path}, capture_output=True, text=True, timeout=30, check=False
    )


def test_ensure_system_packages_does_nothing_when_all_are_there(tmp_path: Path) -> None:
    apt_calls = tmp_path / "apt-calls"
    path = _stub_path(
        tmp_path,
        {
            "redis-server": "exit 0",
            "java": "exit 0",
            "mvn": "exit 0",
            "kcat": "exit 0",
            "node": "exit 0",
            "npm": "exit 0",
            "apt-get": f'echo "$@" >> {apt_calls}',
            "id": "echo 0",
        },
    )
    done = _ensure(path)
    assert done.returncode == 0, done.stderr
    assert not apt_calls.exists()


def test_ensure_system_packages_names_the_sudo_command_when_not_root(tmp_path: Path) -> None:
    apt_calls = tmp_path / "apt-calls"
    path = _stub_path(tmp_path, {"java": "exit 0", "apt-get": f'echo "$@" >> {apt_calls}', "id": "echo 1000"})
    done = _ensure(path)
    assert done.returncode == 1
    assert "sudo apt-get install -y --no-install-recommends redis-server maven kcat nodejs npm" in done.stderr
    assert "openjdk" not in done.stderr  # java is there
    assert not apt_calls.exists()
