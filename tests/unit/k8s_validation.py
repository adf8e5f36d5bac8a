"""Validating Kubernetes manifests without a cluster.

Custom resources: the upstream CRDs' openAPIV3Schema (../shared/crds), made strict the way an
API server with field validation "Strict" (kubectl --validate=strict) treats pruned fields:
an object that declares properties and does not preserve unknown fields rejects any other
key. x-kubernetes-* keys are annotations to jsonschema, so they are simply ignored.

Core kinds: the kubernetes client's models. Two checks: the model's own validation
(pydantic in recent clients: types, required fields, unknown keys) and a walk over
`attribute_map` that names every key the model does not know (works with any client version).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes import client

CRDS = Path(__file__).resolve().parents[2].parent / "shared" / "crds"
CORE_MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "Service"): "V1Service",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("batch/v1", "Job"): "V1Job",
    ("batch/v1", "CronJob"): "V1CronJob",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the KServe CRD alone is 2 MB


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.load_all(path.read_text(), Loader=_LOADER) if document]


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema of every served version in ../shared/crds."""
    schemas = {}
    for path in sorted(CRDS.rglob("*.yaml")):
        for crd in load_yaml_documents(path):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy where objects with declared properties reject undeclared ones, unless they
    preserve unknown fields (x-kubernetes-preserve-unknown-fields: true)."""
    node = copy.copy(schema)
    if "properties" in node:
        node["properties"] = {name: strict(sub) for name, sub in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in node:
            node["additionalProperties"] = False
    if isinstance(node.get("items"), dict):
        node["items"] = strict(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = strict(node["additionalProperties"])
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in node:
            node[keyword] = [strict(sub) for sub in node[keyword]]
    return node


@functools.cache
def _validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    schema = copy.deepcopy(crd_schemas()[(api_version, kind)])
    # Every object has these, whether or not a CRD's schema spells them out (some do not).
    schema.setdefault("properties", {})
    schema["properties"].setdefault("apiVersion", {"type": "string"})
    schema["properties"].setdefault("kind", {"type": "string"})
    schema["properties"].setdefault("metadata", {"type": "object"})
    return jsonschema.Draft7Validator(strict(schema))


def has_crd(manifest: dict[str, Any]) -> bool:
    return (manifest.get("apiVersion"), manifest.get("kind")) in crd_schemas()


def crd_errors(manifest: dict[str, Any]) -> list[str]:
    """Schema violations of a custom resource, as 'path: message'."""
    validator = _validator(manifest["apiVersion"], manifest["kind"])
    errors = sorted(validator.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
    return [f"{_dotted(error.absolute_path)}: {error.message}" for error in errors]


def is_core(manifest: dict[str, Any]) -> bool:
    return (manifest.get("apiVersion"), manifest.get("kind")) in CORE_MODELS


def core_errors(manifest: dict[str, Any]) -> list[str]:
    """Violations of a core-kind manifest against the kubernetes client's model."""
    return model_errors(manifest, CORE_MODELS[(manifest["apiVersion"], manifest["kind"])])


def model_errors(value: Any, type_name: str) -> list[str]:
    """Unknown keys and wrong types of `value` as a `type_name` (e.g. "V1PodSpec")."""
    problems = list(_unknown_keys(value, type_name, ""))
    model = getattr(client, type_name)
    if hasattr(model, "model_validate"):  # pydantic models (kubernetes client >= 34)
        try:
            model.model_validate(value)
        except ValueError as error:
            problems.append(str(error))
    return problems


def _unknown_keys(value: Any, type_name: str, path: str) -> Iterator[str]:
    inner = _container(type_name)
    if inner is not None:
        kind, element = inner
        if kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                yield from _unknown_keys(item, element, f"{path}[{index}]")
        elif kind == "dict" and isinstance(value, dict):
            for key, item in value.items():
                yield from _unknown_keys(item, element, f"{path}.{key}")
        else:
            yield f"{path or '.'}: expected {kind}, got {type(value).__name__}"
        return
    model = getattr(client, type_name, None)
    if model is None:  # a primitive (str, int, bool, object, datetime ...): the model validates it
        return
    if not isinstance(value, dict):
        yield f"{path or '.'}: expected an object ({type_name}), got {type(value).__name__}"
        return
    by_key = {json_key: attribute for attribute, json_key in model.attribute_map.items()}
    for key, item in value.items():
        attribute = by_key.get(key)
        if attribute is None:
            yield f"{path}.{key}: unknown field of {type_name}"
        else:
            yield from _unknown_keys(item, model.openapi_types[attribute], f"{path}.{key}")


_LIST = re.compile(r"^(?:list|List)\[(.+)\]$")
_DICT = re.compile(r"^(?:dict\(str, (.+)\)|Dict\[str, (.+)\])$")


def _container(type_name: str) -> tuple[str, str] | None:
    if match := _LIST.match(type_name):
        return "list", match.group(1)
    if match := _DICT.match(type_name):
        return "dict", match.group(1) or match.group(2)
    return None


def _dotted(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text or "."
