"""deploy/knative, the doors a security read found: every container we ship runs hardened on a
read-only root with a writable /tmp, within what Knative accepts without extra feature flags;
the model is cluster-local; the Kafka clients trust the cluster's CA from the KafkaSource's
Secret; NetworkPolicies let only the right pods reach the model server, Redis and Weaviate."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.features.settings import FeatureWriterSettings
from services.monitor.settings import MonitorSettings
from services.scoring.settings import ScoringSettings
from tests.unit import knative_manifests as km
from tests.unit.k8s_validation import core_errors, load_yaml_documents
from tests.unit.settings_env import build

pytestmark = pytest.mark.unit
ALL = km.manifests()
BASE = km.KNATIVE / "base"
BACKING = km.KNATIVE / "backing-services"
NAMESPACE = yaml.safe_load((BASE / "kustomization.yaml").read_text())["namespace"]
# Where Knative's data plane runs: the activator and autoscaler (knative-serving), the
# cluster-local gateway of Istio or Kourier.
KNATIVE_SYSTEM_NAMESPACES = {"knative-serving", "istio-system", "kourier-system"}
SETTINGS: dict[str, type[BaseSettings]] = {
    "RTINFER_SCORING_": ScoringSettings,
    "RTINFER_FEATURES_": FeatureWriterSettings,
    "RTINFER_MONITOR_": MonitorSettings,
}
CONTAINERS = list(km.containers())
SHIPPED = list(km.shipped_containers())
SCRIPTS = [(m, c) for m, c in CONTAINERS if c.get("args", [])[:2] == ["sh", "-ec"]]


def _ids(pairs: list[tuple[km.Manifest, dict[str, Any]]]) -> list[str]:
    return [f"{manifest.label}:{container.get('name', 'model')}" for manifest, container in pairs]


# -- containers: securityContext, read-only root, writable scratch ------------------------------------


@pytest.mark.parametrize(("manifest", "container"), SHIPPED, ids=_ids(SHIPPED))
def test_every_container_we_ship_is_hardened(manifest: km.Manifest, container: dict[str, Any]) -> None:
    context = container.get("securityContext", {})
    for field, wanted in km.HARDENED_SECURITY_CONTEXT.items():
        assert context.get(field) == wanted, f"{manifest.label}: securityContext.{field}"
    assert not context.get("capabilities", {}).get("add"), manifest.label
    assert not context.get("privileged"), manifest.label


def test_the_hardening_covers_every_workload() -> None:
    """No pod template, ServingRuntime or InferenceService escapes the parametrized check above."""
    kinds = {manifest.kind for manifest, _ in SHIPPED}
    assert {"Deployment", "Job", "CronJob", "Service", "ServingRuntime", "InferenceService"} <= kinds
    assert {m.label for m in km.workloads()} <= {manifest.label for manifest, _ in SHIPPED}


@pytest.mark.parametrize(("manifest", "container"), CONTAINERS, ids=_ids(CONTAINERS))
def test_the_root_is_read_only_and_tmp_is_a_writable_empty_dir(
    manifest: km.Manifest, container: dict[str, Any]
) -> None:
    volumes = {volume["name"]: volume for volume in (km.pod_spec(manifest.body) or {}).get("volumes", [])}
    mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
    assert "/tmp" in mounts, f"{manifest.label}: no writable /tmp"
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]] and not mounts["/tmp"].get("readOnly")
    for path, mount in mounts.items():
        if not mount.get("readOnly"):
            volume = volumes[mount["name"]]
            assert "emptyDir" in volume or "persistentVolumeClaim" in volume, f"{manifest.label}: {path}"


@pytest.mark.parametrize(("manifest", "container"), SCRIPTS, ids=_ids(SCRIPTS))
def test_what_a_script_writes_is_on_a_writable_mount(
    manifest: km.Manifest, container: dict[str, Any]
) -> None:
    args = container["args"]
    writable = [
        PurePosixPath(m["mountPath"]) for m in container.get("volumeMounts", []) if not m.get("readOnly")
    ]
    written = re.findall(r"mkdir -p (\S+)", args[2]) + re.findall(r"^\s*cp .* (\S+)$", args[2], re.MULTILINE)
    assert written, args[2]
    for target in written:
        path = PurePosixPath(target)
        assert any(path == root or root in path.parents for root in writable), f"{manifest.label}: {target}"


def test_the_monitor_state_and_the_model_artifact_stay_where_they_were() -> None:
    """The read-only root moved nothing: the monitor's state is on the writable shared volume,
    KServe still mounts the artifact at /mnt/models (no mount of ours shadows it)."""
    deployment = km.one("Deployment", "rtinfer-monitor")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    monitor = build(MonitorSettings, km.container_env(container))
    writable = [m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")]
    assert any(Path(monitor.state_path).is_relative_to(path) for path in writable if path != "/tmp")
    [runtime] = km.one("ServingRuntime", "rtinfer-fraud")["spec"]["containers"]
    assert all(not mount["mountPath"].startswith("/mnt/models") for mount in runtime["volumeMounts"])


# -- what Knative accepts -------------------------------------------------------------------------

KNATIVE_PODS = [
    m
    for m in ALL
    if km.is_knative_service(m.body) or m.kind == "ServingRuntime"  # serverless KServe
]


@pytest.mark.parametrize("manifest", KNATIVE_PODS, ids=[m.label for m in KNATIVE_PODS])
def test_knative_pods_need_no_extra_feature_flags(manifest: km.Manifest) -> None:
    assert km.knative_pod_problems(km.pod_spec(manifest.body) or {}) == []


def test_the_knative_check_rejects_what_the_webhook_rejects() -> None:
    [body] = load_yaml_documents(BASE / "scoring-service.yaml")
    spec = copy.deepcopy(body["spec"]["template"]["spec"])
    assert km.knative_pod_problems(spec) == []
    spec["securityContext"] = {"runAsNonRoot": True}
    spec["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_ADMIN"]
    spec["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    for mount in spec["containers"][0]["volumeMounts"]:
        mount.pop("readOnly", None)
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    problems = " | ".join(km.knative_pod_problems(spec))
    for expected in ("pod securityContext", "capabilities.add", "procMount", "kafka-ca must be mounted readOnly",
                     "read-only claim mounted writable", "['hostPath'] not allowed", "host is not mounted"):  # fmt: skip
        assert expected in problems, problems


# -- visibility ---------------------------------------------------------------------------------------


def test_the_inference_service_is_cluster_local() -> None:
    labels = km.one("InferenceService", "fraud")["metadata"]["labels"]
    # Serverless mode: Knative's label, which KServe copies to the predictor's Knative Service.
    assert labels["networking.knative.dev/visibility"] == "cluster-local"
    # KServe's own label (RawDeployment/Standard mode ingress), as KServe 0.15+ documents it.
    assert labels["networking.kserve.io/visibility"] == "cluster-local"


def test_every_knative_service_is_cluster_local() -> None:
    services = [m for m in ALL if km.is_knative_service(m.body)]
    assert services
    for manifest in services:
        labels = manifest.body["metadata"]["labels"]
        assert labels.get("networking.knative.dev/visibility") == "cluster-local", manifest.label


# -- Kafka CA -------------------------------------------------------------------------------------------


def _kafka_ca_ref() -> dict[str, Any]:
    tls = km.one("KafkaSource", "rtinfer-payments")["spec"]["net"]["tls"]
    assert tls["enable"] is True
    return dict(tls["caCert"]["secretKeyRef"])


def _kafka_clients() -> list[tuple[km.Manifest, dict[str, Any], Any]]:
    clients = []
    for manifest, container in CONTAINERS:
        env = km.container_env(container)
        for prefix, settings in SETTINGS.items():
            if f"{prefix}KAFKA__BOOTSTRAP" in env:
                clients.append((manifest, container, build(settings, env)))
    return clients


def test_every_kafka_client_mounts_and_points_at_the_kafka_ca() -> None:
    ca = _kafka_ca_ref()
    clients = _kafka_clients()
    names = {manifest.name for manifest, _, _ in clients}
    assert names == {"rtinfer-scoring", "rtinfer-features", "rtinfer-monitor"}
    assert len(clients) == 4, "scoring, the writer (KService and KEDA Deployment), the monitor"
    for manifest, container, settings in clients:
        if "SSL" not in settings.kafka.security_protocol:
            continue
        assert settings.kafka.ssl_cafile, f"{manifest.label}: SASL_SSL without a CA file"
        cafile = PurePosixPath(settings.kafka.ssl_cafile)
        volumes = {v["name"]: v for v in km.pod_spec(manifest.body)["volumes"]}  # type: ignore[index]
        mounts = [m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) in cafile.parents]
        assert len(mounts) == 1, f"{manifest.label}: nothing mounted at {cafile}"
        [mount] = mounts
        assert mount.get("readOnly") is True and "subPath" not in mount, manifest.label
        secret = volumes[mount["name"]]["secret"]
        assert secret["secretName"] == ca["name"], f"{manifest.label}: not the KafkaSource's Secret"
        relative = str(cafile.relative_to(mount["mountPath"]))
        assert {"key": ca["key"], "path": relative} in secret["items"], manifest.label


# -- NetworkPolicies ------------------------------------------------------------------------------------


def _policies(folder: Path) -> list[dict[str, Any]]:
    return [m.body for m in ALL if m.kind == "NetworkPolicy" and m.path.parent == folder]


def _namespace_names(selector: dict[str, Any]) -> set[str]:
    """The namespaces a namespaceSelector names through kubernetes.io/metadata.name (and only so)."""
    names = set()
    key = "kubernetes.io/metadata.name"
    if key in (selector.get("matchLabels") or {}):
        names.add(selector["matchLabels"][key])
    for expression in selector.get("matchExpressions") or []:
        assert expression["key"] == key and expression["operator"] == "In", expression
        names.update(expression["values"])
    assert names, f"{selector} selects namespaces by something other than their name"
    return names


def _workloads_selected(selector: dict[str, Any]) -> set[str]:
    return {m.name for m in km.workloads() if km.selector_matches(selector, km.pod_labels(m.body) or {})}


def test_a_network_policy_selects_the_model_server() -> None:
    model = km.one("InferenceService", "fraud")
    selecting = [
        p
        for p in _policies(BASE)
        if km.selector_matches(p["spec"]["podSelector"], km.pod_labels(model) or {})
    ]
    assert len(selecting) == 1, "exactly one NetworkPolicy selects the InferenceService's pods"
    [policy] = selecting
    assert _workloads_selected(policy["spec"]["podSelector"]) == {"fraud"}, "it selects the model only"
    assert "Ingress" in policy["spec"]["policyTypes"]


def test_the_model_server_accepts_only_scoring_and_knative_data_plane() -> None:
    [policy] = [p for p in _policies(BASE) if p["metadata"]["name"] == "rtinfer-model-ingress"]
    scoring = km.one("Service", "rtinfer-scoring", "serving.knative.dev")
    assert policy["spec"]["ingress"]
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), "a rule without `from` admits every source"
        assert rule.get("ports"), "a rule without `ports` admits every port"
        for peer in rule["from"]:
            assert "ipBlock" not in peer, peer
            if "namespaceSelector" in peer:
                assert _namespace_names(peer["namespaceSelector"]) <= KNATIVE_SYSTEM_NAMESPACES, peer
                assert "podSelector" not in peer or peer["podSelector"], peer
            else:
                # Same namespace: the scoring pods and nothing else we run.
                assert _workloads_selected(peer["podSelector"]) == {"rtinfer-scoring"}, peer
                assert km.selector_matches(peer["podSelector"], km.pod_labels(scoring) or {})
    ports = {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]}
    # queue-proxy (HTTP/1, h2c), its autoscaler metrics, the model server's own port (8080).
    runtime_port = km.one("ServingRuntime", "rtinfer-fraud")["spec"]["containers"][0]["ports"][0]
    assert ports == {8012, 8013, 9090, runtime_port["containerPort"]}


def _url_host(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port


def _users_of(host: str) -> set[str]:
    """The app names of the workloads that reach `host`: through an env value, or Feast's
    feature_store.yaml (ConfigMap rtinfer-feast) mounted as a volume."""
    feast_config = km.config_map_data("rtinfer-feast")["feature_store.yaml"]
    users = set()
    for manifest, container in km.containers():
        env = km.container_env(container)
        mounts_feast = any(
            v.get("configMap", {}).get("name") == "rtinfer-feast"
            for v in (km.pod_spec(manifest.body) or {}).get("volumes", [])
        )
        if any(host in value for value in env.values()) or (mounts_feast and host in feast_config):
            users.add((km.pod_labels(manifest.body) or {})["app.kubernetes.io/name"])
    return users


def _backing_policy(namespace: str) -> dict[str, Any]:
    [policy] = [p for p in _policies(BACKING) if p["metadata"].get("namespace") == namespace]
    return policy


@pytest.mark.parametrize(
    ("url_setting", "extra_ports"),
    [
        ("RTINFER_SCORING_FEAST__REDIS_URL", set()),
        ("RTINFER_SCORING_VECTORS__WEAVIATE_URL", {"weaviate_grpc_port"}),
    ],
    ids=["redis", "weaviate"],
)
def test_backing_services_accept_only_the_rtinfer_pods_that_use_them(
    url_setting: str, extra_ports: set[str]
) -> None:
    [(_, scoring)] = [(m, c) for m, c in km.containers() if m.name == "rtinfer-scoring"]
    env = km.container_env(scoring)
    host, port = _url_host(env[url_setting])
    namespace = host.split(".")[1]  # <service>.<namespace>.svc.cluster.local
    policy = _backing_policy(namespace)
    assert "Ingress" in policy["spec"]["policyTypes"]
    settings = build(ScoringSettings, env)
    wanted_ports = {port} | {getattr(settings.vectors, name) for name in extra_ports}
    [ours] = [r for r in policy["spec"]["ingress"] if any("namespaceSelector" in p for p in r["from"])]
    [peer] = ours["from"]
    assert _namespace_names(peer["namespaceSelector"]) == {NAMESPACE}
    assert {p["port"] for p in ours["ports"]} == wanted_ports
    allowed = {
        name
        for name in _all_app_names()
        if km.selector_matches(peer["podSelector"], {"app.kubernetes.io/name": name})
    }
    assert allowed == _users_of(host), "exactly the workloads that reach it"
    assert "rtinfer-monitor" not in allowed
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), rule
        for other in rule["from"]:
            assert "ipBlock" not in other
            if "namespaceSelector" not in other:  # the service's own pods (replication, gossip)
                assert other["podSelector"] == policy["spec"]["podSelector"]


def _all_app_names() -> set[str]:
    return {(km.pod_labels(m.body) or {}).get("app.kubernetes.io/name", "") for m in km.workloads()} - {""}


def test_backing_service_policies_are_valid_and_kept_in_their_namespaces() -> None:
    kustomization = yaml.safe_load((BACKING / "kustomization.yaml").read_text())
    assert "namespace" not in kustomization, "a namespace transformer would move them into one namespace"
    policies = _policies(BACKING)
    assert {p["metadata"]["namespace"] for p in policies} == {"redis", "weaviate"}
    for policy in policies:
        assert core_errors(policy) == []
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert "../backing-services" not in base["resources"]


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl not on PATH: kustomize build not rendered"
)
def test_backing_services_render_into_their_own_namespaces() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(BACKING)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    bodies = [body for body in yaml.safe_load_all(rendered) if body]
    assert {(b["kind"], b["metadata"]["namespace"]) for b in bodies} == {
        ("NetworkPolicy", "redis"),
        ("NetworkPolicy", "weaviate"),
    }
    for body in bodies:
        assert core_errors(body) == []


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl not on PATH: kustomize build not rendered"
)
@pytest.mark.parametrize(
    "target", km.KUSTOMIZE_TARGETS, ids=[t.split("/")[-1] or "default" for t in km.KUSTOMIZE_TARGETS]
)
def test_every_rendered_variant_keeps_the_model_policy_and_the_hardening(target: str) -> None:
    bodies = km.rendered(target)
    [policy] = [
        b for b in bodies if b["kind"] == "NetworkPolicy" and b["metadata"]["name"] == "rtinfer-model-ingress"
    ]
    # Every model server of the variant (a challenger's too) is behind the model policy.
    for service in (b for b in bodies if b["kind"] == "InferenceService"):
        labels = km.pod_labels(service) or {}
        assert km.selector_matches(policy["spec"]["podSelector"], labels), service["metadata"]["name"]
    for body in bodies:
        for container in (km.pod_spec(body) or {}).get("containers", []):
            for field, wanted in km.HARDENED_SECURITY_CONTEXT.items():
                assert container["securityContext"].get(field) == wanted, (body["metadata"]["name"], field)
