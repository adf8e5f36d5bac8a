"""deploy/knative: every manifest against its upstream CRD schema (strict) or the kubernetes
client's model, and the names that tie the resources to each other and to the services'
settings (sink refs, topics, addresses, secrets, ports, model paths)."""

from __future__ import annotations

import copy
import importlib.util
import shutil
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from events import PAYMENT_AUTHORIZED
from services.adapters.feast.settings import FeastSettings
from services.adapters.feast.store import repo_config
from services.features.settings import FeatureWriterSettings
from services.monitor.settings import MonitorSettings
from services.scoring.settings import ScoringSettings
from tests.unit import knative_manifests as km
from tests.unit.k8s_validation import (
    CRDS,
    core_errors,
    crd_errors,
    has_crd,
    is_core,
    load_yaml_documents,
    model_errors,
)
from tests.unit.settings_env import build, unknown_variables

pytestmark = pytest.mark.unit
needs_crds = pytest.mark.skipif(
    not CRDS.is_dir(),
    reason=f"no upstream CRDs at {CRDS} (a clone without ../shared/crds): schema checks skipped",
)
NOT_APPLIED = {km.KNATIVE / "secret.example.yaml"}  # examples no kustomization may list
# Secrets the operator creates (docs/deploy.md); never part of a kustomization.
USER_PROVIDED_SECRETS = {
    "rtinfer-kafka": {"protocol", "sasl.mechanism", "user", "password", "ca.crt"},
    "rtinfer-weaviate": {"api-key"},
}
NO_VENDORED_CRD = {("keda.sh/v1alpha1", "TriggerAuthentication")}  # checked by hand below
# Variables read by our scripts rather than settings classes.
SCRIPT_VARIABLES = frozenset(
    {"RTINFER_HOME", "RTINFER_BOOTSTRAP_MODEL_DIR", "RTINFER_FEAST_DATA_DIR", "RTINFER_FEAST_FEATURE_SERVICE"}
)
KNATIVE_ONLY_POD_FIELDS = {
    "containerConcurrency",
    "timeoutSeconds",
    "responseStartTimeoutSeconds",
    "idleTimeoutSeconds",
}
ALL = km.manifests()


def _ids(manifests: list[km.Manifest]) -> list[str]:
    return [manifest.label for manifest in manifests]


CUSTOM = [m for m in ALL if not is_core(m.body)]
CORE = [m for m in ALL if is_core(m.body)]


# -- schemas ------------------------------------------------------------------------------


@needs_crds
@pytest.mark.parametrize("manifest", CUSTOM, ids=_ids(CUSTOM))
def test_custom_resource_matches_its_upstream_crd(manifest: km.Manifest) -> None:
    key = (manifest.body["apiVersion"], manifest.kind)
    if key in NO_VENDORED_CRD:
        pytest.skip(f"{key} has no CRD in ../shared/crds; see test_trigger_authentication_shape")
    assert has_crd(manifest.body), f"no CRD for {key} in {CRDS}"
    assert crd_errors(manifest.body) == []


@pytest.mark.parametrize("manifest", CORE, ids=_ids(CORE))
def test_core_resource_matches_the_kubernetes_model(manifest: km.Manifest) -> None:
    assert core_errors(manifest.body) == []


@pytest.mark.parametrize("manifest", ALL, ids=_ids(ALL))
def test_metadata_and_knative_pod_templates_are_valid(manifest: km.Manifest) -> None:
    """Parts the CRDs leave open (x-kubernetes-preserve-unknown-fields) checked as core types."""
    assert model_errors(manifest.body["metadata"], "V1ObjectMeta") == []
    if manifest.kind == "Service" and manifest.body["apiVersion"].startswith("serving.knative.dev"):
        template = manifest.body["spec"]["template"]
        assert model_errors(template["metadata"], "V1ObjectMeta") == []
        pod = {key: value for key, value in template["spec"].items() if key not in KNATIVE_ONLY_POD_FIELDS}
        assert model_errors(_with_probe_ports(pod), "V1PodSpec") == []


def _with_probe_ports(pod: dict[str, Any]) -> dict[str, Any]:
    """Knative defaults a probe's port to the container port; a core PodSpec wants it spelt out."""
    pod = copy.deepcopy(pod)
    for container in pod["containers"]:
        port = container.get("ports", [{"containerPort": 8080}])[0]["containerPort"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            for action in ("httpGet", "tcpSocket"):
                container.get(probe, {}).get(action, {}).setdefault("port", port)
    return pod


def test_trigger_authentication_shape() -> None:
    auth = km.one("TriggerAuthentication", "rtinfer-kafka")
    assert set(auth["spec"]) == {"secretTargetRef"}
    for target in auth["spec"]["secretTargetRef"]:
        assert set(target) == {"parameter", "name", "key"}
        assert target["parameter"] in {"username", "password", "ca", "cert", "key", "sasl", "tls"}


MISSPELLINGS = [
    (
        "base/scoring-service.yaml",
        ("spec", "template", "spec"),
        "containerConcurrency",
        "containerConcurency",
    ),
    ("base/kafka-source.yaml", ("spec",), "topics", "topicz"),
    ("base/kafka-source.yaml", ("spec", "delivery"), "backoffPolicy", "backofPolicy"),
    ("base/model-inferenceservice.yaml", ("spec", "predictor", "model"), "storageUri", "storageURI"),
    ("components/keda/features-scaledobject.yaml", ("spec",), "maxReplicaCount", "maxReplicas"),
]


@needs_crds
@pytest.mark.parametrize(("file", "where", "field", "typo"), MISSPELLINGS, ids=[m[3] for m in MISSPELLINGS])
def test_a_misspelt_custom_resource_field_is_rejected(
    file: str, where: tuple[str, ...], field: str, typo: str
) -> None:
    [body] = load_yaml_documents(km.KNATIVE / file)
    assert crd_errors(body) == []
    broken = copy.deepcopy(body)
    parent = broken
    for key in where:
        parent = parent[key]
    parent[typo] = parent.pop(field)
    errors = crd_errors(broken)
    assert any(typo in error for error in errors), errors


def test_a_misspelt_core_field_is_rejected() -> None:
    [body] = load_yaml_documents(km.KNATIVE / "base" / "monitor-deployment.yaml")
    broken = copy.deepcopy(body)
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    broken["spec"]["template"]["spec"]["containers"][0]["envForm"] = []
    errors = core_errors(broken)
    assert any("replica" in error for error in errors) and any("envForm" in error for error in errors), errors


# -- wiring: events ---------------------------------------------------------------------------


def _scoring_env() -> dict[str, str]:
    [(_, container)] = [(m, c) for m, c in km.containers() if m.name == "rtinfer-scoring"]
    return km.container_env(container)


def _scoring() -> ScoringSettings:
    return build(ScoringSettings, _scoring_env())  # type: ignore[no-any-return]


def test_kafka_source_pushes_payments_to_the_scoring_service() -> None:
    source = km.one("KafkaSource", "rtinfer-payments")["spec"]
    scoring = _scoring()
    assert source["topics"] == [scoring.topics.payments]
    assert source["sink"]["ref"] == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "name": "rtinfer-scoring",
    }
    assert source["consumerGroup"] != scoring.group_id, "push and pull must not share a consumer group"
    assert source["ordering"] == "ordered"
    delivery = source["delivery"]
    assert delivery["backoffPolicy"] == "exponential" and delivery["retry"] >= 3
    assert delivery["backoffDelay"].startswith("PT")


def test_dead_letters_reach_the_scoring_dlq_topic() -> None:
    sink = km.one("KafkaSink", "rtinfer-payments-dlq")
    assert sink["spec"]["topic"] == _scoring().topics.dlq
    dead_letter_ref = {"apiVersion": sink["apiVersion"], "kind": "KafkaSink", "name": "rtinfer-payments-dlq"}
    for kind, name in [("KafkaSource", "rtinfer-payments"), ("KafkaSource", "rtinfer-payments-to-broker"),
                       ("Trigger", "rtinfer-scoring"), ("Broker", "rtinfer")]:  # fmt: skip
        assert km.one(kind, name)["spec"]["delivery"]["deadLetterSink"]["ref"] == dead_letter_ref, name


def test_broker_alternative_routes_payment_events_to_scoring() -> None:
    trigger = km.one("Trigger", "rtinfer-scoring")["spec"]
    assert trigger["broker"] == "rtinfer"
    assert trigger["filter"]["attributes"] == {"type": PAYMENT_AUTHORIZED}
    assert trigger["subscriber"]["ref"]["name"] == "rtinfer-scoring"
    to_broker = km.one("KafkaSource", "rtinfer-payments-to-broker")["spec"]
    assert to_broker["sink"]["ref"]["kind"] == "Broker" and to_broker["sink"]["ref"]["name"] == "rtinfer"
    assert to_broker["topics"] == [_scoring().topics.payments]
    broker = km.one("Broker", "rtinfer")
    assert broker["metadata"]["annotations"]["eventing.knative.dev/broker.class"] == "Kafka"
    km.config_map_data(broker["spec"]["config"]["name"])


def test_every_component_uses_the_same_kafka() -> None:
    bootstrap = _scoring().kafka.bootstrap.split(",")
    for kind, name in [("KafkaSource", "rtinfer-payments"), ("KafkaSource", "rtinfer-payments-to-broker"),
                       ("KafkaSink", "rtinfer-payments-dlq")]:  # fmt: skip
        assert km.one(kind, name)["spec"]["bootstrapServers"] == bootstrap, name
    assert km.config_map_data("rtinfer-kafka-broker-config")["bootstrap.servers"].split(",") == bootstrap
    trigger = km.one("ScaledObject", "rtinfer-features")["spec"]["triggers"][0]["metadata"]
    assert trigger["bootstrapServers"].split(",") == bootstrap
    for config, prefix in (
        ("rtinfer-features", "RTINFER_FEATURES_"),
        ("rtinfer-monitor", "RTINFER_MONITOR_"),
    ):
        data = km.config_map_data(config)
        assert data[f"{prefix}KAFKA__BOOTSTRAP"].split(",") == bootstrap, config
        assert data[f"{prefix}KAFKA__SECURITY_PROTOCOL"] == _scoring().kafka.security_protocol


# -- wiring: model ----------------------------------------------------------------------------


def test_scoring_calls_the_inference_service() -> None:
    service = km.one("InferenceService", "fraud")
    scoring = _scoring()
    namespace = yaml.safe_load((km.KNATIVE / "base" / "kustomization.yaml").read_text())["namespace"]
    assert service["metadata"]["name"] == scoring.model.model_name
    target = urlsplit(scoring.model.target)
    assert target.hostname == f"{service['metadata']['name']}-predictor.{namespace}.svc.cluster.local"
    assert (
        scoring.model.protocol == "rest" and service["spec"]["predictor"]["model"]["protocolVersion"] == "v2"
    )
    model = service["spec"]["predictor"]["model"]
    runtime = km.one("ServingRuntime", model["runtime"])["spec"]
    assert model["modelFormat"]["name"] in {fmt["name"] for fmt in runtime["supportedModelFormats"]}
    [container] = runtime["containers"]
    args = container["args"]
    assert args[:3] == ["python", "-m", "services.model"] and "--no-enable-grpc" in args
    assert args[args.index("--http-port") + 1] == str(container["ports"][0]["containerPort"]) == "8080"
    assert args[args.index("--model-dir") + 1] == "/mnt/models"


def test_model_artifact_path_is_shared_by_kserve_scoring_and_monitor() -> None:
    uri = urlsplit(km.one("InferenceService", "fraud")["spec"]["predictor"]["model"]["storageUri"])
    assert uri.scheme == "pvc"
    km.one("PersistentVolumeClaim", uri.hostname or "")
    for manifest, container in km.containers():
        env = km.container_env(container)
        model_dir = env.get("RTINFER_SCORING_MODEL_DIR") or env.get("RTINFER_MONITOR_MODEL_DIR")
        if model_dir is None:
            continue
        volumes = {v["name"]: v for v in km.pod_spec(manifest.body)["volumes"]}  # type: ignore[index]
        mounts = [m for m in container["volumeMounts"]
                  if volumes[m["name"]].get("persistentVolumeClaim", {}).get("claimName") == uri.hostname]  # fmt: skip
        assert mounts, f"{manifest.label} reads {model_dir} but does not mount {uri.hostname}"
        assert model_dir == mounts[0]["mountPath"] + uri.path, manifest.label


# -- wiring: services ---------------------------------------------------------------------------


def test_scoring_kservice_matches_its_settings() -> None:
    service = km.one("Service", "rtinfer-scoring", "serving.knative.dev")
    spec = service["spec"]["template"]["spec"]
    [container] = spec["containers"]
    scoring = _scoring()
    notes = km.template_annotations(service)
    assert notes["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    assert int(notes["autoscaling.knative.dev/min-scale"]) >= 1
    assert int(notes["autoscaling.knative.dev/max-scale"]) >= int(notes["autoscaling.knative.dev/min-scale"])
    assert 0 < int(notes["autoscaling.knative.dev/target"]) <= spec["containerConcurrency"]
    assert spec["containerConcurrency"] == scoring.http_max_in_flight, "queue-proxy queues instead of a 429"
    assert spec["timeoutSeconds"] > scoring.resilience.retry_budget_s + scoring.model.timeout_s
    assert scoring.http_host == "0.0.0.0" and scoring.http_port == container["ports"][0]["containerPort"]
    assert container["args"] == ["python", "-m", "services.scoring", "--ingress", "http"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert scoring.vectors.backend == "weaviate" and scoring.feast.online_store == "redis"


def test_feature_writer_runs_in_pull_mode() -> None:
    service = km.one("Service", "rtinfer-features", "serving.knative.dev")
    assert int(km.template_annotations(service)["autoscaling.knative.dev/min-scale"]) >= 1
    [container] = service["spec"]["template"]["spec"]["containers"]
    writer = build(FeatureWriterSettings, km.container_env(container))
    assert container["args"] == ["python", "-m", "services.features"]
    assert writer.metrics_port == container["ports"][0]["containerPort"]
    assert writer.payments_topic == _scoring().topics.payments
    assert writer.dlq_topic == FeatureWriterSettings.model_fields["dlq_topic"].default
    assert writer.feast == _scoring().feast


def test_keda_scales_the_writer_deployment_on_its_consumer_lag() -> None:
    scaled = km.one("ScaledObject", "rtinfer-features")["spec"]
    target = scaled["scaleTargetRef"]
    deployment = km.one(target["kind"], target["name"], "apps")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    writer = build(FeatureWriterSettings, km.container_env(container))
    [trigger] = scaled["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == writer.group_id
    assert trigger["metadata"]["topic"] == writer.payments_topic
    assert (
        trigger["authenticationRef"]["name"]
        == km.one("TriggerAuthentication", "rtinfer-kafka")["metadata"]["name"]
    )
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"]


def test_monitor_is_a_single_consumer_with_persistent_state() -> None:
    deployment = km.one("Deployment", "rtinfer-monitor")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    monitor = build(MonitorSettings, km.container_env(container))
    mounts = [mount["mountPath"] for mount in container["volumeMounts"] if not mount.get("readOnly")]
    assert any(str(monitor.state_path).startswith(path) for path in mounts)
    assert monitor.predictions_topic == _scoring().topics.predictions
    assert monitor.explanations_topic == _scoring().topics.explanations
    assert monitor.metrics_port == container["ports"][0]["containerPort"]


def test_every_rtinfer_variable_is_a_real_setting() -> None:
    for manifest, container in km.containers():
        assert unknown_variables(km.container_env(container), SCRIPT_VARIABLES) == [], manifest.label
    for manifest in ALL:
        if manifest.kind == "ConfigMap":
            assert unknown_variables(manifest.body.get("data", {}), SCRIPT_VARIABLES) == [], manifest.label


def test_script_variables_are_read_by_the_scripts() -> None:
    read = (km.ROOT / "scripts" / "bootstrap-reference.sh").read_text()
    read += (km.KNATIVE / "base" / "feast" / "features.py").read_text()
    for variable in SCRIPT_VARIABLES:
        assert variable in read, variable


def test_feast_cli_config_matches_what_the_services_build() -> None:
    data = km.config_map_data("rtinfer-feast")
    config = yaml.safe_load(data["feature_store.yaml"])
    feast: FeastSettings = _scoring().feast
    expected = repo_config(feast)
    assert config["project"] == expected.project
    assert Path(config["registry"]) == Path(feast.repo_dir) / "registry.db"
    assert config["entity_key_serialization_version"] == expected.entity_key_serialization_version
    assert config["online_store"]["type"] == "redis"
    assert config["online_store"]["connection_string"] == feast.redis_connection_string()
    assert config["offline_store"] == {"type": "file"}


def test_feast_cli_repo_defines_the_services_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.fraud.feast_repo import build_repo

    job = km.one("Job", "rtinfer-feast-apply")
    [container] = job["spec"]["template"]["spec"]["containers"]
    env = km.container_env(container)
    assert env["RTINFER_FEAST_DATA_DIR"] == str(_scoring().feast.data_dir)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {}
    exec(compile(km.config_map_data("rtinfer-feast")["features.py"], "features.py", "exec"), namespace)
    expected = build_repo(_scoring().feast.data_dir, service_name=_scoring().feast.feature_service)
    defined = {getattr(value, "name", None) for value in namespace.values()}
    assert {getattr(obj, "name", None) for obj in expected.objects()} <= defined


# -- secrets, references, kustomize ---------------------------------------------------------------


def test_secrets_are_referenced_never_committed() -> None:
    applied = [m for m in ALL if m.path not in NOT_APPLIED]
    assert not [m.label for m in applied if m.kind == "Secret"], (
        "no Secret may be applied from the repository"
    )
    for manifest in applied:
        for name, key in km.secret_references(manifest.body):
            assert name in USER_PROVIDED_SECRETS, f"{manifest.label} uses an undocumented secret {name}"
            assert key is None or key in USER_PROVIDED_SECRETS[name], f"{manifest.label}: {name}/{key}"
    examples = [m.body for m in ALL if m.path in NOT_APPLIED and m.kind == "Secret"]
    assert {body["metadata"]["name"]: set(body["stringData"]) for body in examples} == USER_PROVIDED_SECRETS
    assert all(value == "" for body in examples for value in body["stringData"].values())


def test_referenced_config_maps_and_claims_exist() -> None:
    claims = {m.name for m in ALL if m.kind == "PersistentVolumeClaim"}
    for manifest, container in km.containers():
        km.container_env(container)  # raises for a missing ConfigMap
        for volume in (km.pod_spec(manifest.body) or {}).get("volumes", []):
            if "configMap" in volume:
                km.config_map_data(volume["configMap"]["name"])
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, manifest.label


def test_kustomizations_list_every_manifest_once() -> None:
    listed: list[Path] = []
    for folder, kustomization in km.kustomizations().items():
        patch_files = [patch["path"] for patch in kustomization.get("patches", []) if "path" in patch]
        for entry in kustomization.get("resources", []) + kustomization.get("components", []) + patch_files:
            assert (folder / entry).exists(), f"{folder}: {entry} does not exist"
            if (folder / entry).is_file():
                listed.append((folder / entry).resolve())
        for generator in kustomization.get("configMapGenerator", []):
            assert all((folder / file).is_file() for file in generator["files"])
    files = {m.path.resolve() for m in ALL}
    assert sorted(files - set(listed)) == sorted(path.resolve() for path in NOT_APPLIED)
    assert len(listed) == len(set(listed)), "a manifest is listed twice"


def test_images_entrypoints_and_version() -> None:
    version = tomllib.loads((km.ROOT / "pyproject.toml").read_text())["project"]["version"]
    [image] = yaml.safe_load((km.KNATIVE / "base" / "kustomization.yaml").read_text())["images"]
    assert image == {"name": "rtinfer", "newTag": version}
    for manifest, container in km.containers():
        assert container["image"] == f"rtinfer:{version}", manifest.label
        assert "command" not in container, f"{manifest.label}: use args, keep the image's tini entrypoint"
        args = container["args"]
        if args[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(f"{args[2]}.__main__") is not None, args
        elif args[0] == "bootstrap-reference":
            assert "/opt/rtinfer/bin/bootstrap-reference" in (km.ROOT / "Dockerfile").read_text()
        else:
            assert args[:2] == ["sh", "-ec"] and "feast " in args[2], manifest.label


KUSTOMIZE_TARGETS = km.KUSTOMIZE_TARGETS


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl not on PATH: kustomize builds not rendered"
)
@pytest.mark.parametrize("target", KUSTOMIZE_TARGETS, ids=[t or "default" for t in KUSTOMIZE_TARGETS])
def test_kustomize_renders_valid_namespaced_resources(target: str) -> None:
    bodies = km.rendered(target)
    assert bodies
    for body in bodies:
        label = f"{body['kind']}/{body['metadata']['name']}"
        if body["kind"] != "Namespace":
            assert body["metadata"].get("namespace") == "rtinfer", label
        if is_core(body):
            assert core_errors(body) == [], label
        elif CRDS.is_dir() and has_crd(body):
            assert crd_errors(body) == [], label
