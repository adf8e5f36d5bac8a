"""`rtinfer stack up|down|status`: start, stop and inspect the native servers."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from rtinfer.stack.process import (
    PidFile,
    StackError,
    log_tail,
    port_bindable,
    process_alive,
    spawn,
    stop_pid,
)
from rtinfer.stack.servers import OPTIONAL_SERVERS, Server, all_servers, jaeger_server, weaviate_binary
from rtinfer.stack.settings import StackSettings


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    port: int
    pid: int | None
    healthy: bool

    @property
    def state(self) -> str:
        if self.pid is None:
            return "healthy (not ours)" if self.healthy else "stopped"
        return "healthy" if self.healthy else "unhealthy"


class Stack:
    """The native stack described by one settings object."""

    def __init__(
        self,
        settings: StackSettings,
        only: list[str] | None = None,
        servers: list[Server] | None = None,
        with_: Collection[str] = (),
    ) -> None:
        """The core servers, the optional ones asked for, or exactly `servers` (tests).

        Args:
            only: restrict to these servers (an optional one named here is included).
            with_: add these optional servers (OPTIONAL_SERVERS) to the core ones.
        """
        self.settings = settings
        unknown = set(with_) - set(OPTIONAL_SERVERS)
        if unknown:
            raise StackError(f"not an optional service: {', '.join(sorted(unknown))}")
        if servers is None:
            servers = all_servers(settings, with_={*with_, *(only or [])})
        if only:
            unknown = set(only) - {server.name for server in servers}
            if unknown:
                raise StackError(f"unknown service(s): {', '.join(sorted(unknown))}")
            servers = [server for server in servers if server.name in only]
        self.servers = servers
        self.run_dir = settings.stack_dir / "run"
        self.log_dir = settings.stack_dir / "logs"

    def _pidfile(self, server: Server) -> PidFile:
        return PidFile(self.run_dir, server.name, server.markers or _marker(self.settings, server.name))

    def up(self) -> list[str]:
        """Start every server not yet running; return the names started.

        On any failure, the servers started by this call are stopped again.
        """
        started: list[tuple[Server, int]] = []
        try:
            # Check and prepare everything first, so a missing tool or a taken port
            # stops us before any process is started.
            pending = []
            for server in self.servers:
                if self._pidfile(server).live_pid() is not None:
                    print(f"{server.name}: already running", flush=True)
                    continue
                self._check_ports(server)
                pending.append((server, server.prepare()))
            for server, launch in pending:
                log_path = self.log_dir / f"{server.name}.log"
                pid = spawn(launch, log_path)
                self._pidfile(server).write(pid)
                started.append((server, pid))
                print(f"{server.name}: started pid {pid}, log {log_path}", flush=True)
            for server, pid in started:
                self._wait_healthy(server, pid)
        except (StackError, KeyboardInterrupt):
            for server, pid in reversed(started):
                stop_pid(pid)
                self._pidfile(server).remove()
            raise
        self.write_env()
        return [server.name for server, _ in started]

    def _check_ports(self, server: Server) -> None:
        for port in server.ports:
            if not port_bindable(self.settings.host, port):
                raise StackError(
                    f"{server.name}: port {self.settings.host}:{port} is already in use; "
                    f"stop what holds it or choose another port "
                    f"(RTINFER_STACK_{server.name.upper()}_PORT and friends)"
                )

    def _wait_healthy(self, server: Server, pid: int) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            if server.healthy():
                print(f"{server.name}: healthy on port {server.main_port}", flush=True)
                return
            # Not the pid-file check: a just-exec'd process briefly shows an empty cmdline.
            if not process_alive(pid):
                raise StackError(
                    f"{server.name} exited during start-up; last log lines:\n"
                    + log_tail(self.log_dir / f"{server.name}.log")
                )
            time.sleep(0.5)
        raise StackError(
            f"{server.name} (pid {pid}) not healthy after {self.settings.start_timeout_s:.0f}s; "
            "last log lines:\n" + log_tail(self.log_dir / f"{server.name}.log")
        )

    def down(self) -> list[str]:
        """Stop the servers this stack started (by pid file only)."""
        stopped = []
        for server in reversed(self.servers):
            pidfile = self._pidfile(server)
            pid = pidfile.live_pid()
            if pid is not None:
                stop_pid(pid)
                stopped.append(server.name)
                print(f"{server.name}: stopped pid {pid}", flush=True)
            pidfile.remove()
        return stopped

    def status(self) -> list[ServiceStatus]:
        return [
            ServiceStatus(server.name, server.main_port, self._pidfile(server).live_pid(), server.healthy())
            for server in self.servers
        ]

    def running_optional(self) -> list[str]:
        """The optional servers among these that this stack started and that still run."""
        return [
            server.name
            for server in self.servers
            if server.name in OPTIONAL_SERVERS and self._pidfile(server).live_pid() is not None
        ]

    def jaeger_on(self) -> bool:
        """Jaeger is one of these servers, or was started by this stack and still runs."""
        if any(server.name == "jaeger" for server in self.servers):
            return True
        jaeger = jaeger_server(self.settings)
        return self._pidfile(jaeger).live_pid() is not None

    def service_env(self) -> dict[str, str]:
        """The settings' env, with Jaeger's variables whenever Jaeger is on."""
        return self.settings.service_env(jaeger=self.settings.jaeger or self.jaeger_on())

    def write_env(self) -> None:
        lines = [f"export {key}={value}" for key, value in self.service_env().items()]
        self.settings.env_file.parent.mkdir(parents=True, exist_ok=True)
        self.settings.env_file.write_text("\n".join(lines) + "\n")


def _marker(settings: StackSettings, name: str) -> tuple[str, ...]:
    """Command-line substrings that identify a process this stack started."""
    if name == "kafka":
        return (str(settings.stack_dir / "kafka" / "server.properties"),)
    if name == "redis":
        # Redis rewrites its title to "redis-server HOST:PORT" once it runs.
        return (f"{settings.host}:{settings.redis_port}", f"--port {settings.redis_port} ")
    return (str(weaviate_binary(settings)),)
