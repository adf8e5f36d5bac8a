"""Reading deploy/knative: manifests by kind and name, containers, their environment,
kustomizations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.unit.k8s_validation import load_yaml_documents

ROOT = Path(__file__).resolve().parents[2]
KNATIVE = ROOT / "deploy" / "knative"
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
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
    """(secret name, key) for every secretKeyRef, secretRef, KafkaSink auth and KEDA secretTargetRef."""
    if isinstance(body, dict):
        if "secretKeyRef" in body:
            yield body["secretKeyRef"]["name"], body["secretKeyRef"]["key"]
        if "secretRef" in body:
            yield body["secretRef"]["name"], None
        if "secret" in body and isinstance(body["secret"], dict) and "ref" in body["secret"]:
            yield body["secret"]["ref"]["name"], None
        if "secretTargetRef" in body:
            for target in body["secretTargetRef"]:
                yield target["name"], target["key"]
        for value in body.values():
            yield from secret_references(value)
    elif isinstance(body, list):
        for item in body:
            yield from secret_references(item)
