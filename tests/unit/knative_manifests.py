"""Reading deploy/knative: manifests by kind and name, containers, their environment,
kustomizations."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.unit.k8s_validation import load_yaml_documents

ROOT = Path(__file__).resolve().parents[2]
KNATIVE = ROOT / "deploy" / "knative"
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
# Every kustomization meant to be applied: the default variant and the overlays.
KUSTOMIZE_TARGETS = ["", "overlays/broker", "overlays/keda", "overlays/challenger"]
SECRET_PLACEHOLDER = "from-a-secret"


@dataclass(frozen=True)
class Manifest:
    path: Path
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def label(self) -> str:
        return f"{self.path.relative_to(KNATIVE)}:{self.kind}/{self.name}"


def manifests() -> list[Manifest]:
    """Every Kubernetes object in deploy/knative (kustomization files and plain config excluded)."""
    found = []
    for path in sorted(KNATIVE.rglob("*.yaml")):
        for body in load_yaml_documents(path):
            if "apiVersion" in body and "kind" in body and body["kind"] not in KUSTOMIZE_KINDS:
                found.append(Manifest(path, body))
    return found


def kustomizations() -> dict[Path, dict[str, Any]]:
    return {
        path.parent: yaml.safe_load(path.read_text()) for path in sorted(KNATIVE.rglob("kustomization.yaml"))
    }


@functools.cache
def _render(target: str) -> str:
    return subprocess.run(
        ["kubectl", "kustomize", str(KNATIVE / target)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def rendered(target: str) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize deploy/knative/<target>` renders (kubectl must be on PATH)."""
    return [body for body in yaml.safe_load_all(_render(target)) if body]


def rendered_one(bodies: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    hits = [body for body in bodies if body["kind"] == kind and body["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected one {kind}/{name} in the rendered variant, found {len(hits)}"
    return hits[0]


def one(kind: str, name: str, api_group: str | None = None) -> dict[str, Any]:
    """The single manifest of that kind and name (optionally of one API group)."""
    hits = [
        m.body
        for m in manifests()
        if m.kind == kind
        and m.name == name
        and (api_group is None or m.body["apiVersion"].startswith(api_group))
    ]
    assert len(hits) == 1, f"expected one {kind}/{name}, found {len(hits)}"
    return hits[0]


def pod_spec(body: dict[str, Any]) -> dict[str, Any] | None:
    """Where a resource keeps its containers (pod spec or ServingRuntime spec)."""
    kind = body["kind"]
    if kind in ("Deployment", "Job") or (
        kind == "Service" and body["apiVersion"].startswith("serving.knative")
    ):
        return body["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    if kind == "CronJob":
        return body["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    if kind == "ServingRuntime":
        return body["spec"]  # type: ignore[no-any-return]
    return None


def containers() -> Iterator[tuple[Manifest, dict[str, Any]]]:
    for manifest in manifests():
        spec = pod_spec(manifest.body)
        for container in (spec or {}).get("containers", []):
            yield manifest, container


def config_map_data(name: str) -> dict[str, str]:
    """A ConfigMap's data, written as a manifest or made by a kustomize configMapGenerator."""
    for manifest in manifests():
        if manifest.kind == "ConfigMap" and manifest.name == name:
            return dict(manifest.body.get("data", {}))
    for folder, kustomization in kustomizations().items():
        for generator in kustomization.get("configMapGenerator", []):
            if generator["name"] == name:
                return {Path(file).name: (folder / file).read_text() for file in generator.get("files", [])}
    raise AssertionError(f"no ConfigMap {name}")


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment: envFrom ConfigMaps, then env (secrets as a placeholder)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_map_data(source["configMapRef"]["name"]))
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", SECRET_PLACEHOLDER)
    return env


def template_annotations(body: dict[str, Any]) -> dict[str, str]:
    return dict(body["spec"]["template"]["metadata"].get("annotations", {}))


def secret_references(body: Any) -> Iterator[tuple[str, str | None]]:
    """(secret name, key) for every secretKeyRef, secretRef, KafkaSink auth, secret volume and KEDA
    secretTargetRef."""
    if isinstance(body, dict):
        if "secretKeyRef" in body:
            yield body["secretKeyRef"]["name"], body["secretKeyRef"]["key"]
        if "secretRef" in body:
            yield body["secretRef"]["name"], None
        if "secret" in body and isinstance(body["secret"], dict) and "ref" in body["secret"]:
            yield body["secret"]["ref"]["name"], None
        if "secret" in body and isinstance(body["secret"], dict) and "secretName" in body["secret"]:
            items = body["secret"].get("items") or [{"key": None}]
            for item in items:
                yield body["secret"]["secretName"], item["key"]
        if "secretTargetRef" in body:
            for target in body["secretTargetRef"]:
                yield target["name"], target["key"]
        for value in body.values():
            yield from secret_references(value)
    elif isinstance(body, list):
        for item in body:
            yield from secret_references(item)


# -- pods: templates, labels, selectors ---------------------------------------------------------

HARDENED_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def is_knative_service(body: dict[str, Any]) -> bool:
    return body["kind"] == "Service" and str(body["apiVersion"]).startswith("serving.knative.dev")


def pod_labels(body: dict[str, Any]) -> dict[str, str] | None:
    """The labels the pods of a workload carry (what a NetworkPolicy's podSelector sees)."""
    kind = body["kind"]
    if kind in ("Deployment", "Job") or is_knative_service(body):
        return dict(body["spec"]["template"]["metadata"].get("labels", {}))
    if kind == "CronJob":
        return dict(body["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {}))
    if kind == "InferenceService":
        # KServe's own pod labels, over the InferenceService's labels (copied to its pods).
        return {
            **body["metadata"].get("labels", {}),
            "serving.kserve.io/inferenceservice": body["metadata"]["name"],
            "component": "predictor",
        }
    return None


def workloads() -> list[Manifest]:
    """Every manifest that makes pods in the rtinfer namespace."""
    return [m for m in manifests() if pod_labels(m.body) is not None]


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels + matchExpressions) against a label set."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def shipped_containers() -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """Every container spec we ship: pod templates, the ServingRuntime's containers and the
    InferenceService's model container (KServe merges it over the runtime's)."""
    yield from containers()
    for manifest in manifests():
        if manifest.kind == "InferenceService":
            yield manifest, manifest.body["spec"]["predictor"]["model"]


# -- what Knative Serving's webhook accepts (knative.dev/serving pkg/apis/serving) -------------------

# Container securityContext fields a Knative Service may set without a feature flag
# (capabilities.add needs kubernetes.containerspec-addcapabilities).
KNATIVE_CONTAINER_SECURITY_FIELDS = {
    "allowPrivilegeEscalation",
    "capabilities",
    "privileged",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile",
}
KNATIVE_VOLUME_TYPES = {"secret", "configMap", "projected", "emptyDir", "persistentVolumeClaim"}
KNATIVE_RESERVED_MOUNT_PATHS = {"/", "/dev", "/dev/log"}


def knative_pod_problems(spec: dict[str, Any]) -> list[str]:
    """What the Knative Serving webhook would reject in a revision's pod spec, with the feature
    flags docs/deploy.md asks for (kubernetes.podspec-persistent-volume-claim; emptyDir volumes
    are enabled by default) and nothing else: no pod securityContext, no added capabilities, no
    writable PersistentVolumeClaim, secret/configMap/projected mounts read-only."""
    problems = []
    if "securityContext" in spec:
        problems.append("pod securityContext needs kubernetes.podspec-securitycontext")
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    for name, volume in volumes.items():
        kinds = set(volume) - {"name"}
        if not kinds <= KNATIVE_VOLUME_TYPES:
            problems.append(f"volume {name}: {sorted(kinds - KNATIVE_VOLUME_TYPES)} not allowed")
        claim = volume.get("persistentVolumeClaim")
        if claim is not None and not claim.get("readOnly"):
            problems.append(
                f"volume {name}: a writable claim needs kubernetes.podspec-persistent-volume-write"
            )
    for container in spec.get("containers", []):
        where = f"container {container['name']}"
        context = container.get("securityContext", {})
        if extra := set(context) - KNATIVE_CONTAINER_SECURITY_FIELDS:
            problems.append(f"{where}: securityContext fields {sorted(extra)} not allowed")
        if context.get("capabilities", {}).get("add"):
            problems.append(f"{where}: capabilities.add needs kubernetes.containerspec-addcapabilities")
        if context.get("privileged"):
            problems.append(f"{where}: privileged may only be false")
        paths = [mount["mountPath"].rstrip("/") or "/" for mount in container.get("volumeMounts", [])]
        if len(paths) != len(set(paths)):
            problems.append(f"{where}: duplicate mountPath")
        for mount in container.get("volumeMounts", []):
            volume = volumes.get(mount["name"])
            if volume is None:
                problems.append(f"{where}: volumeMount {mount['name']} has no volume")
                continue
            if mount["mountPath"].rstrip("/") in KNATIVE_RESERVED_MOUNT_PATHS | {""}:
                problems.append(f"{where}: mountPath {mount['mountPath']} is reserved")
            writable_kind = "emptyDir" in volume or "persistentVolumeClaim" in volume
            if not writable_kind and not mount.get("readOnly"):
                problems.append(f"{where}: {mount['name']} must be mounted readOnly")
            if volume.get("persistentVolumeClaim", {}).get("readOnly") and not mount.get("readOnly"):
                problems.append(f"{where}: {mount['name']} is a read-only claim mounted writable")
    mounted = {mount["name"] for c in spec.get("containers", []) for mount in c.get("volumeMounts", [])}
    problems.extend(f"volume {name} is not mounted" for name in sorted(set(volumes) - mounted))
    return problems
