"""docker-compose.yml's rtinfer services, the Dockerfile, Prometheus and Grafana against the
project: images, commands, ports and env against the settings classes, healthchecks and
start order, scrape targets and the metric names the dashboard queries."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from rtinfer.cli import build_parser
from rtinfer.stack.settings import StackSettings
from services.adapters.vectors.settings import VectorSettings
from services.features.settings import FeatureWriterSettings
from services.model.settings import ModelServerSettings
from services.monitor.settings import MonitorSettings
from services.scoring.settings import ScoringSettings
from tests.unit.settings_env import build, unknown_variables
from tests.unit.test_compose import required_variable

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
RTINFER = {"trainer", "model", "features", "scoring", "monitor", "producer"}
ONE_SHOT = {"topics", "trainer", "producer"}
SCRIPT_VARIABLES = frozenset({"RTINFER_HOME", "RTINFER_BOOTSTRAP_MODEL_DIR"})
DASHBOARD = ROOT / "deploy" / "compose" / "grafana" / "dashboards" / "rtinfer.json"
PROMETHEUS = ROOT / "deploy" / "compose" / "prometheus.yml"


def _env(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[name].get("environment", {}).items()}


def _published(name: str) -> dict[int, int]:
    """container port -> host port; every published port binds loopback."""
    ports = {}
    for mapping in SERVICES[name].get("ports", []):
        host_ip, host_port, container = str(mapping).split(":")
        assert host_ip == "127.0.0.1", f"{name}: {mapping} must bind loopback only"
        ports[int(container)] = int(host_port)
    return ports


def _flag(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


# -- the image -------------------------------------------------------------------------------


def test_dockerfile_builds_one_non_root_image_from_the_pins() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages and all(stage == "python:3.11-slim" for stage in stages)
    assert "-c constraints.txt" in dockerfile
    [user] = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0", "numeric non-root (runAsNonRoot)"
    [entrypoint] = re.findall(r"^ENTRYPOINT (.+)$", dockerfile, re.MULTILINE)
    assert json.loads(entrypoint) == ["tini", "--"] and re.search(r"apt-get install .*\btini\b", dockerfile)
    [cmd] = re.findall(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(cmd)[0] in scripts
    for source in re.findall(r"^COPY (?!--from)(\S+(?: \S+)*) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which does not exist"


def test_rtinfer_services_run_the_project_image() -> None:
    for name in RTINFER:
        service = SERVICES[name]
        assert service["image"] == f"rtinfer:{VERSION}", name
        assert (ROOT / service["build"]["context"] / "Dockerfile").is_file()


def test_commands_exist() -> None:
    for name in RTINFER:
        command = SERVICES[name]["command"]
        if command[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(f"{command[2]}.__main__") is not None, name
        elif command[0] == "rtinfer":
            build_parser().parse_args(command[1:])  # exits on an unknown command or flag
        else:
            assert command == ["bootstrap-reference"], name
            assert "/opt/rtinfer/bin/bootstrap-reference" in (ROOT / "Dockerfile").read_text()


# -- settings and ports ------------------------------------------------------------------------


def test_every_rtinfer_variable_is_a_real_setting() -> None:
    for name in SERVICES:
        assert unknown_variables(_env(name), SCRIPT_VARIABLES) == [], name


def test_scoring_settings_ports_and_addresses() -> None:
    scoring: ScoringSettings = build(ScoringSettings, _env("scoring"))
    default_port = ScoringSettings.model_fields["http_port"].default
    assert scoring.http_port == default_port and _published("scoring") == {default_port: default_port}
    assert scoring.http_host == "0.0.0.0"
    assert SERVICES["scoring"]["command"] == ["python", "-m", "services.scoring", "--ingress", "both"]
    model = urlsplit(scoring.model.target)
    assert model.hostname == "model" and model.port == int(_flag(SERVICES["model"]["command"], "--http-port"))
    assert scoring.vectors.backend == "weaviate" and scoring.feast.online_store == "redis"
    weaviate = urlsplit(scoring.vectors.weaviate_url)
    assert weaviate.hostname == "weaviate" and weaviate.port in _published("weaviate")
    assert scoring.vectors.weaviate_grpc_port in _published("weaviate")
    assert urlsplit(scoring.feast.redis_url).hostname == "redis"


def test_scoring_exports_traces_to_jaeger() -> None:
    """OTLP/HTTP to the jaeger service's receiver, and scoring starts once Jaeger is healthy."""
    endpoint = build(ScoringSettings, _env("scoring")).otlp_endpoint
    assert endpoint is not None
    url = urlsplit(endpoint)
    assert (url.scheme, url.hostname, url.path) == ("http", "jaeger", "")
    assert url.port == StackSettings.model_fields["jaeger_otlp_http_port"].default
    assert url.port in _published("jaeger")
    assert SERVICES["scoring"]["depends_on"]["jaeger"] == {"condition": "service_healthy"}


def test_every_kafka_client_uses_the_internal_listener() -> None:
    advertised = SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    internal = re.search(r"INTERNAL://([^,]+)", advertised)
    assert internal is not None
    assert build(ScoringSettings, _env("scoring")).kafka.bootstrap == internal.group(1)
    assert build(FeatureWriterSettings, _env("features")).kafka.bootstrap == internal.group(1)
    assert build(MonitorSettings, _env("monitor")).kafka.bootstrap == internal.group(1)
    assert _flag(SERVICES["producer"]["command"], "--bootstrap") == internal.group(1)
    assert f"--bootstrap-server {internal.group(1)}" in SERVICES["topics"]["command"][0]


def test_model_server_ports_are_its_defaults() -> None:
    command = SERVICES["model"]["command"]
    http, grpc = int(_flag(command, "--http-port")), int(_flag(command, "--grpc-port"))
    assert http == ModelServerSettings.model_fields["http_port"].default
    assert grpc == ModelServerSettings.model_fields["grpc_port"].default
    assert _published("model") == {http: http, grpc: grpc}


def test_one_artifact_and_one_feast_repo_for_everyone() -> None:
    model_dir = _flag(SERVICES["model"]["command"], "--model-dir")
    assert _env("trainer")["RTINFER_BOOTSTRAP_MODEL_DIR"] == model_dir
    assert str(build(ScoringSettings, _env("scoring")).model_dir) == model_dir
    assert str(build(MonitorSettings, _env("monitor")).model_dir) == model_dir
    home = _env("trainer")["RTINFER_HOME"]
    scoring_feast = build(ScoringSettings, _env("scoring")).feast
    assert build(FeatureWriterSettings, _env("features")).feast == scoring_feast
    assert (str(scoring_feast.repo_dir), str(scoring_feast.data_dir)) == (f"{home}/feast", f"{home}/features")
    assert _flag(SERVICES["producer"]["command"], "--payments") == f"{home}/data/payments.parquet"
    for name in RTINFER:
        assert f"rtinfer-var:{home}" in SERVICES[name]["volumes"], name


def test_topics_service_creates_every_topic_in_use() -> None:
    scoring = build(ScoringSettings, _env("scoring"))
    monitor = build(MonitorSettings, _env("monitor"))
    writer = build(FeatureWriterSettings, _env("features"))
    used = {*scoring.topics.model_dump().values(), writer.payments_topic, writer.dlq_topic}
    used |= {monitor.predictions_topic, monitor.explanations_topic, monitor.labels_topic}
    used |= {monitor.reports_topic, monitor.alerts_topic, _flag(SERVICES["producer"]["command"], "--topic")}
    loop = re.search(r"for topic in ([^;]+);", SERVICES["topics"]["command"][0])
    assert loop is not None and set(loop.group(1).replace("\\", " ").split()) == used


# -- credentials ------------------------------------------------------------------------------------


def test_every_weaviate_client_has_the_api_key() -> None:
    """Weaviate takes no anonymous client: the trainer (vectors index) and the scoring service get
    the key Weaviate accepts, through their own settings."""
    key = SERVICES["weaviate"]["environment"]["AUTHENTICATION_APIKEY_ALLOWED_KEYS"]
    assert required_variable(key) == "WEAVIATE_API_KEY"
    scoring: ScoringSettings = build(ScoringSettings, _env("scoring"))
    assert scoring.vectors.backend == "weaviate"
    assert scoring.vectors.weaviate_api_key is not None
    assert scoring.vectors.weaviate_api_key.get_secret_value() == key
    trainer: VectorSettings = build(VectorSettings, _env("trainer"))
    assert trainer.backend == "weaviate" and urlsplit(trainer.weaviate_url).hostname == "weaviate"
    assert trainer.weaviate_api_key is not None and trainer.weaviate_api_key.get_secret_value() == key
    clients = {name for name in SERVICES if any("weaviate:" in value for value in _env(name).values())}
    assert clients == {"trainer", "scoring"}, "a new Weaviate client needs the key too"


def test_grafana_admin_password_comes_from_the_environment() -> None:
    grafana = _env("grafana")
    assert required_variable(grafana["GF_SECURITY_ADMIN_PASSWORD"]) == "GRAFANA_ADMIN_PASSWORD"
    # Anonymous visitors may look at the dashboard, nothing more.
    if grafana.get("GF_AUTH_ANONYMOUS_ENABLED") == "true":
        assert grafana["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_the_required_variables_are_documented() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text()
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in set(re.findall(r"\$\{([A-Za-z0-9_]+):\?", text)):
        assert variable in docs, f"docs/deploy.md should say how to set {variable}"


# -- health and start order ------------------------------------------------------------------------


def test_long_running_services_have_healthchecks_and_one_shots_do_not_restart() -> None:
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
        else:
            assert "healthcheck" in service, f"{name} needs a healthcheck"
            assert service.get("restart", "unless-stopped") == "unless-stopped", name


def test_dependencies_wait_for_the_right_condition() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            wanted = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert rule["condition"] == wanted, f"{name} -> {dependency}"
    assert {"trainer"} <= set(SERVICES["model"]["depends_on"])
    assert {"model", "topics"} <= set(SERVICES["scoring"]["depends_on"])
    assert SERVICES["producer"]["profiles"] == ["producer"]


def test_health_probes_hit_the_service_ports() -> None:
    probes = {
        "scoring": str(build(ScoringSettings, _env("scoring")).http_port),
        "features": str(build(FeatureWriterSettings, _env("features")).metrics_port),
        "monitor": str(build(MonitorSettings, _env("monitor")).metrics_port),
        "model": _flag(SERVICES["model"]["command"], "--http-port"),
    }
    for name, port in probes.items():
        assert f"127.0.0.1:{port}/" in " ".join(SERVICES[name]["healthcheck"]["test"]), name
    assert "/readyz" in " ".join(SERVICES["scoring"]["healthcheck"]["test"])


# -- Prometheus and Grafana ------------------------------------------------------------------------


def _scrape_targets() -> dict[str, str]:
    config = yaml.safe_load(PROMETHEUS.read_text())
    return {job["job_name"]: job["static_configs"][0]["targets"][0] for job in config["scrape_configs"]}


def test_prometheus_scrapes_every_service_on_its_metrics_port() -> None:
    targets = _scrape_targets()
    assert targets["scoring"] == f"scoring:{build(ScoringSettings, _env('scoring')).http_port}"
    assert targets["features"] == f"features:{build(FeatureWriterSettings, _env('features')).metrics_port}"
    assert targets["monitor"] == f"monitor:{build(MonitorSettings, _env('monitor')).metrics_port}"
    assert targets["model"] == f"model:{_flag(SERVICES['model']['command'], '--http-port')}"
    assert (
        "./deploy/compose/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in SERVICES["prometheus"]["volumes"]
    )


def test_grafana_provisions_the_datasource_and_dashboard() -> None:
    provisioning = ROOT / "deploy" / "compose" / "grafana" / "provisioning"
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert urlsplit(source["url"]).hostname == "prometheus"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "rtinfer.yml").read_text())["providers"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in SERVICES["grafana"]["volumes"])
    assert mounts["./deploy/compose/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/compose/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == source["uid"], panel["title"]
    jobs = set(re.findall(r'job="(\w+)"', DASHBOARD.read_text()))
    assert jobs <= set(_scrape_targets())


def test_dashboard_covers_the_pipeline() -> None:
    expressions = " ".join(
        target["expr"]
        for panel in json.loads(DASHBOARD.read_text())["panels"]
        for target in panel.get("targets", [])
    )
    for metric in (
        "messaging_client_consumed_messages_total",
        "messaging_client_sent_messages_total",
        "rtinfer_dlq_messages_total",
        "rtinfer_stage_duration_milliseconds_bucket",
        "rtinfer_event_to_prediction_duration_seconds_bucket",
        "messaging_batch_message_count_bucket",
        "rtinfer_predictions_degraded_total",
        "messaging_kafka_consumer_lag",
        "rtinfer_breaker_state",
        "rtinfer_explanations",
        "rtinfer_monitor_feature_psi",
        "rtinfer_monitor_score_psi",
        "rtinfer_monitor_disparity",
    ):
        assert metric in expressions, metric


# What the services expose, in a fresh process (its own Prometheus registry): every instrument
# of the scoring, feature writer and monitor code, touched once.
_EXPOSE = r"""
import re
from collections import Counter
from pathlib import Path
from prometheus_client import generate_latest
from services.adapters.telemetry import setup_metrics
from services.monitor.telemetry import MonitorMetrics
from services.scoring.metrics import ScoringMetrics

scoring = ScoringMetrics(setup_metrics("scoring", None, prometheus=True))
for counter in (scoring.consumed, scoring.produced, scoring.dead_lettered, scoring.degraded, scoring.breaker_open):
    counter.add(1)
for histogram in (scoring.batch_size, scoring.stage_latency, scoring.end_to_end):
    histogram.record(1.0)
code = "".join(p.read_text() for p in Path("services/scoring").glob("*.py"))
for name, unit in re.findall(r'observe\(\s*"([^"]+)",.*?"([^"]*)"\s*,?\s*\)', code, re.DOTALL):
    scoring.observe(name, lambda: {(): 1.0}, unit)
meter = setup_metrics("features", None, prometheus=True)
source = Path("services/features/app.py").read_text()
for kind, name, unit in re.findall(r'create_(counter|histogram)\(\s*"([^"]+)", unit="([^"]*)"', source):
    instrument = getattr(meter, f"create_{kind}")(name, unit=unit)
    instrument.add(1) if kind == "counter" else instrument.record(1.0)
monitor = MonitorMetrics(setup_metrics("monitor", None, prometheus=True))
for gauge in monitor._gauges.values():
    gauge.set(1.0)
monitor.count_events(Counter({"ok": 1}))
monitor._alerts.add(1)
print(generate_latest().decode())
"""


def test_every_metric_the_dashboard_queries_is_exposed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _EXPOSE], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    exposed = {
        line.split("{")[0].split(" ")[0] for line in done.stdout.splitlines() if not line.startswith("#")
    }
    queried = set(re.findall(r"\b((?:rtinfer|messaging)_[a-z0-9_]+)", DASHBOARD.read_text()))
    # Label names look like metric names; these are the ones the dashboard groups or filters by.
    labels = {
        "rtinfer_feature",
        "rtinfer_segment_attribute",
        "rtinfer_statistic",
        "rtinfer_alert_metric",
        "rtinfer_window_size_s",
        "messaging_destination_name",
        "messaging_destination_partition_id",
    }
    assert sorted(queried - labels - exposed) == []
