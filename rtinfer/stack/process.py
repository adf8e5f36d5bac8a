"""Process bookkeeping for the native stack: pid files, ports, log tails.

Only processes whose pid file this stack wrote are ever signalled, and only while
their command line still names the program we started (a guard against pid reuse).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A stack operation failed; the message says which service and why."""


@dataclass(frozen=True)
class Launch:
    """How one server process is started."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def port_bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def read_cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


class PidFile:
    """The pid file of one service in the stack folder."""

    def __init__(self, run_dir: Path, name: str, markers: tuple[str, ...]) -> None:
        self.path = run_dir / f"{name}.pid"
        self.markers = markers

    def live_pid(self) -> int | None:
        """The recorded pid if that process still runs and is ours, else None."""
        try:
            pid = int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None
        cmdline = read_cmdline(pid)
        for _ in range(40):
            # A process still inside exec() shows an empty command line for a moment.
            if cmdline or not process_alive(pid):
                break
            time.sleep(0.05)
            cmdline = read_cmdline(pid)
        if not cmdline or not any(marker in cmdline for marker in self.markers):
            return None
        if _is_zombie(pid):
            return None
        return pid

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{pid}\n")

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def process_alive(pid: int) -> bool:
    """True while the process exists and has not exited (zombies count as exited)."""
    _reap(pid)
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the parenthesised command name.
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def spawn(launch: Launch, log_path: Path) -> int:
    """Start a server detached from our session, output appended to its log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv is built by the stack, not user input
            launch.argv,
            cwd=launch.cwd,
            env={**os.environ, **launch.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc.pid


def stop_pid(pid: int, timeout_s: float = 20.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after the timeout."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            _reap(pid)
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    time.sleep(0.2)
    _reap(pid)


def _reap(pid: int) -> None:
    # Our own children (started in this process) must be reaped to disappear.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return f"(no log at {log_path})"
    return "\n".join(text.splitlines()[-lines:])
