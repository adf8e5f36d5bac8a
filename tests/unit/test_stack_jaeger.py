"""The native stack's optional Jaeger: off unless asked for, its collector config, the build with
go (a stand-in go here), its health probe, and what `rtinfer stack env|status` print."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from rtinfer.cli import main
from rtinfer.stack import health
from rtinfer.stack.jaeger import jaeger_binary, jaeger_config
from rtinfer.stack.manager import Stack
from rtinfer.stack.process import Launch, PidFile, StackError, spawn, stop_pid
from rtinfer.stack.servers import build_jaeger, jaeger_server
from rtinfer.stack.settings import JAEGER_VERSION, StackSettings
from services.scoring.settings import ScoringSettings
from tests.unit.settings_env import build

pytestmark = pytest.mark.unit
JAEGER_VARIABLES = ["RTINFER_JAEGER_QUERY_URL", "RTINFER_OTLP_ENDPOINT", "RTINFER_SCORING_OTLP_ENDPOINT"]


@pytest.fixture
def settings(tmp_path: Path) -> StackSettings:
    return StackSettings(state_dir=tmp_path / "stack", cache_dir=tmp_path / "cache")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No RTINFER_STACK_* of this machine; state and cache under tmp_path."""
    for name in [name for name in os.environ if name.startswith("RTINFER_STACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RTINFER_STACK_STATE_DIR", str(tmp_path / "stack"))
    monkeypatch.setenv("RTINFER_STACK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


# -- which servers --------------------------------------------------------------------------------


def test_jaeger_is_off_by_default_and_on_when_asked(settings: StackSettings) -> None:
    assert [server.name for server in Stack(settings).servers] == ["kafka", "redis", "weaviate"]
    assert [server.name for server in Stack(settings, with_=["jaeger"]).servers][-1] == "jaeger"
    flagged = settings.model_copy(update={"jaeger": True})
    assert [server.name for server in Stack(flagged).servers][-1] == "jaeger"
    assert [server.name for server in Stack(settings, only=["jaeger"]).servers] == ["jaeger"]
    assert [server.name for server in Stack(settings, only=["kafka"], with_=["jaeger"]).servers] == ["kafka"]
    with pytest.raises(StackError, match="not an optional service: kafka"):
        Stack(settings, with_=["kafka"])


def test_the_flag_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_STACK_JAEGER", "1")
    monkeypatch.setenv("RTINFER_STACK_JAEGER_OTLP_HTTP_PORT", "14318")
    settings = StackSettings()
    assert settings.jaeger and settings.otlp_endpoint == "http://127.0.0.1:14318"


# -- the collector config ---------------------------------------------------------------------------


def test_config_binds_loopback_on_the_settings_ports(settings: StackSettings) -> None:
    config = yaml.safe_load(jaeger_config(settings))
    extensions, receivers = config["extensions"], config["receivers"]
    endpoints = {
        "query http": extensions["jaeger_query"]["http"]["endpoint"],
        "query grpc": extensions["jaeger_query"]["grpc"]["endpoint"],
        "health": extensions["healthcheckv2"]["http"]["endpoint"],
        "otlp grpc": receivers["otlp"]["protocols"]["grpc"]["endpoint"],
        "otlp http": receivers["otlp"]["protocols"]["http"]["endpoint"],
    }
    assert endpoints == {
        "query http": "127.0.0.1:16686",
        "query grpc": "127.0.0.1:16685",
        "health": "127.0.0.1:13133",
        "otlp grpc": "127.0.0.1:4317",
        "otlp http": "127.0.0.1:4318",
    }
    assert sorted(int(endpoint.rsplit(":", 1)[1]) for endpoint in endpoints.values()) == sorted(
        jaeger_server(settings).ports
    )
    # No other listener: the collector's own metrics (8888 by default) are off, and so are
    # the receivers and extensions of the all-in-one default (zipkin, jaeger, sampling, ...).
    assert config["service"]["telemetry"]["metrics"] == {"level": "none"}
    assert set(receivers) == {"otlp"}
    assert set(config["service"]["extensions"]) == set(extensions)


def test_config_keeps_traces_in_memory_and_queries_them(settings: StackSettings) -> None:
    config = yaml.safe_load(jaeger_config(settings.model_copy(update={"jaeger_max_traces": 500})))
    [backend] = config["extensions"]["jaeger_storage"]["backends"].items()
    name, storage = backend
    assert storage == {"memory": {"max_traces": 500}}
    assert config["extensions"]["jaeger_query"]["storage"] == {"traces": name}
    assert config["extensions"]["jaeger_query"]["enable_tracing"] is False  # no self-tracing
    assert config["exporters"]["jaeger_storage_exporter"] == {"trace_storage": name}
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline == {
        "receivers": ["otlp"],
        "processors": ["batch"],
        "exporters": ["jaeger_storage_exporter"],
    }


def test_other_ports_and_host_reach_the_config(settings: StackSettings) -> None:
    moved = settings.model_copy(update={"jaeger_port": 26686, "jaeger_otlp_http_port": 24318})
    text = jaeger_config(moved)
    assert '"127.0.0.1:26686"' in text and '"127.0.0.1:24318"' in text
    assert "16686" not in text and "4318" not in text.replace("24318", "")


# -- building the binary ----------------------------------------------------------------------------

# A stand-in go: logs its arguments; `build -o X` writes an executable X (or fails when asked).
FAKE_GO = """#!/bin/sh
echo "$PWD $*" >> "$GO_CALLS"
if [ "$1" = mod ]; then echo "module $3" > go.mod; fi
if [ "$1" = build ]; then
  [ -n "$GO_FAIL" ] && { echo "compile error" >&2; exit 2; }
  printf '#!/bin/sh\\n' > "$3"; chmod +x "$3"
fi
exit 0
"""


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    calls = tmp_path / "go-calls"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("GO_CALLS", str(calls))
    return calls


def test_build_makes_a_scratch_module_and_caches_the_binary(
    settings: StackSettings, fake_go: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = build_jaeger(settings)
    assert binary == settings.cache_dir / "jaeger" / JAEGER_VERSION / "jaeger" == jaeger_binary(settings)
    assert os.access(binary, os.X_OK)
    scratch = binary.parent / "build"
    calls = [line.split(" ", 1) for line in fake_go.read_text().splitlines()]
    assert {cwd for cwd, _ in calls} == {str(scratch)}
    args = [arguments.split() for _, arguments in calls]
    assert args[0][:2] == ["mod", "init"]
    assert args[1] == ["get", "-tool", f"github.com/jaegertracing/jaeger/cmd/jaeger@{JAEGER_VERSION}"]
    assert args[2][:2] == ["build", "-o"] and args[2][3] == "github.com/jaegertracing/jaeger/cmd/jaeger"
    assert "first run only, several minutes" in capsys.readouterr().out
    # A second build reuses the scratch module: no second `go mod init`.
    binary.unlink()
    build_jaeger(settings)
    assert sum(line.split()[1] == "mod" for line in fake_go.read_text().splitlines()) == 1


def test_a_failed_build_leaves_no_binary_and_says_why(
    settings: StackSettings, fake_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GO_FAIL", "1")
    with pytest.raises(StackError, match=r"go build jaeger failed \(exit 2\):\ncompile error"):
        build_jaeger(settings)
    assert not jaeger_binary(settings).exists()
    assert [path.name for path in jaeger_binary(settings).parent.iterdir()] == ["build"]


def test_prepare_uses_the_cached_binary_and_writes_the_config(settings: StackSettings, fake_go: Path) -> None:
    binary = jaeger_binary(settings)
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    launch = jaeger_server(settings).prepare()
    config = settings.stack_dir / "jaeger" / "config.yaml"
    assert launch.argv == [str(binary), "--config", str(config)]
    assert config.read_text() == jaeger_config(settings)
    assert not fake_go.exists(), "a cached binary needs no go"


def test_missing_go_names_it(
    settings: StackSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StackError, match="'go' is not on PATH; install Go"):
        jaeger_server(settings).prepare()


# -- health ------------------------------------------------------------------------------------


@pytest.fixture
def fake_jaeger() -> Iterator[tuple[int, dict[str, int]]]:
    """A stand-in HTTP server answering /status and /api/services with the given codes."""
    codes = {"/status": 200, "/api/services": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(codes.get(self.path, 404))
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), codes
    finally:
        server.shutdown()
        server.server_close()


def test_healthy_needs_status_ok_and_a_query_answer(fake_jaeger: tuple[int, dict[str, int]]) -> None:
    port, codes = fake_jaeger
    assert health.jaeger_healthy("127.0.0.1", port, port)
    codes["/status"] = 503  # a component still starting, or failed
    assert not health.jaeger_healthy("127.0.0.1", port, port)
    codes["/status"], codes["/api/services"] = 200, 500
    assert not health.jaeger_healthy("127.0.0.1", port, port)
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        closed = int(unused.getsockname()[1])
        assert not health.jaeger_healthy("127.0.0.1", closed, closed, timeout_s=0.5)


# -- what `stack env` and `stack status` print ------------------------------------------------------


def _printed(out: str) -> dict[str, str]:
    return dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())


def test_env_prints_the_jaeger_variables_only_when_jaeger_is_on(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stack", "env"]) == 0
    assert not set(JAEGER_VARIABLES) & set(_printed(capsys.readouterr().out))

    assert main(["stack", "env", "--with", "jaeger"]) == 0
    printed = _printed(capsys.readouterr().out)
    assert printed["RTINFER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert printed["RTINFER_SCORING_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert printed["RTINFER_JAEGER_QUERY_URL"] == "http://127.0.0.1:16686"

    monkeypatch.setenv("RTINFER_STACK_JAEGER", "1")
    monkeypatch.setenv("RTINFER_STACK_JAEGER_OTLP_HTTP_PORT", "14318")
    assert main(["stack", "env"]) == 0
    assert _printed(capsys.readouterr().out)["RTINFER_SCORING_OTLP_ENDPOINT"] == "http://127.0.0.1:14318"


def test_the_scoring_service_reads_the_printed_endpoint() -> None:
    env = StackSettings(jaeger=True, jaeger_otlp_http_port=14318).service_env()
    scoring = {key: value for key, value in env.items() if key.startswith("RTINFER_SCORING_")}
    assert build(ScoringSettings, scoring).otlp_endpoint == "http://127.0.0.1:14318"
    assert sorted(key for key in env if key not in StackSettings().service_env()) == JAEGER_VARIABLES


def test_a_running_jaeger_shows_in_env_status_and_is_stopped_by_down(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Started by `up --with jaeger` earlier: later commands without the flag still see it."""
    settings = StackSettings()
    server = jaeger_server(settings)
    # A stand-in process carrying the marker the stack looks for (the config path) in its argv.
    launch = Launch(
        "jaeger", [sys.executable, "-c", "import time; time.sleep(600)", *server.markers], {}, clean_env
    )
    pid = spawn(launch, clean_env / "jaeger.log")
    try:
        PidFile(settings.stack_dir / "run", "jaeger", server.markers).write(pid)
        assert main(["stack", "env"]) == 0
        assert set(JAEGER_VARIABLES) <= set(_printed(capsys.readouterr().out))
        main(["stack", "status"])
        rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
        assert rows["jaeger"][1:3] == [str(settings.jaeger_port), str(pid)]
        assert main(["stack", "down"]) == 0
        assert "jaeger: stopped pid" in capsys.readouterr().out
        assert Stack(settings, only=["jaeger"]).running_optional() == []
    finally:
        stop_pid(pid, timeout_s=5)
