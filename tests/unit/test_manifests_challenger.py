"""deploy/knative/components/challenger (rendered by overlays/challenger): a second
InferenceService under the champion's ServingRuntime with its own artifact, the scoring
settings that score it in shadow (canary share 0) on its own topic, the monitor settings that
compare it, and the model NetworkPolicy covering both model servers; validated against the CRDs
and the settings classes, as the rest of deploy/knative."""

from __future__ import annotations

import copy
import json
import shutil
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from services.monitor.settings import MonitorSettings
from services.scoring.settings import ScoringSettings
from tests.unit import knative_manifests as km
from tests.unit.k8s_validation import CRDS, crd_errors, has_crd
from tests.unit.settings_env import build, unknown_variables

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH: kustomize not rendered"),
]
OVERLAY = "overlays/challenger"
CHAMPION, CHALLENGER = "fraud", "fraud-challenger"
NAMESPACE = yaml.safe_load((km.KNATIVE / "base" / "kustomization.yaml").read_text())["namespace"]


@pytest.fixture(scope="module")
def bodies() -> list[dict[str, Any]]:
    return km.rendered(OVERLAY)


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return km.rendered("")


def _data(bodies: list[dict[str, Any]], name: str) -> dict[str, str]:
    return dict(km.rendered_one(bodies, "ConfigMap", name)["data"])


def _scoring_container(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    [container] = km.rendered_one(bodies, "Service", "rtinfer-scoring")["spec"]["template"]["spec"][
        "containers"
    ]
    return container  # type: ignore[no-any-return]


def _scoring_env(bodies: list[dict[str, Any]]) -> dict[str, str]:
    """The scoring container's environment as rendered: its ConfigMaps, then its env entries."""
    container = _scoring_container(bodies)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(_data(bodies, source["configMapRef"]["name"]))
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", km.SECRET_PLACEHOLDER)
    return env


def _scoring(bodies: list[dict[str, Any]]) -> ScoringSettings:
    return build(ScoringSettings, _scoring_env(bodies))  # type: ignore[no-any-return]


def _model(bodies: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return km.rendered_one(bodies, "InferenceService", name)["spec"]["predictor"]["model"]  # type: ignore[no-any-return]


def test_the_variant_adds_only_the_challenger_inference_service(
    bodies: list[dict[str, Any]], base: list[dict[str, Any]]
) -> None:
    """(Every rendered object of the variant is validated by test_manifests.py's kustomize test.)"""
    names = {(body["kind"], body["metadata"]["name"]) for body in bodies}
    assert names - {(body["kind"], body["metadata"]["name"]) for body in base} == {
        ("InferenceService", CHALLENGER)
    }
    assert len(bodies) == len(base) + 1


@pytest.mark.skipif(not CRDS.is_dir(), reason=f"no upstream CRDs at {CRDS}: schema check skipped")
def test_the_challenger_matches_the_inference_service_crd(bodies: list[dict[str, Any]]) -> None:
    challenger = km.rendered_one(bodies, "InferenceService", CHALLENGER)
    assert has_crd(challenger) and crd_errors(challenger) == []
    broken = copy.deepcopy(challenger)
    broken["spec"]["predictor"]["model"]["storageURI"] = broken["spec"]["predictor"]["model"].pop(
        "storageUri"
    )
    assert any("storageURI" in error for error in crd_errors(broken))


def test_the_challenger_runs_under_the_champions_runtime_with_its_own_artifact(
    bodies: list[dict[str, Any]],
) -> None:
    champion, challenger = _model(bodies, CHAMPION), _model(bodies, CHALLENGER)
    same = ("runtime", "modelFormat", "protocolVersion", "securityContext", "resources")
    assert {key: challenger[key] for key in same} == {key: champion[key] for key in same}
    km.rendered_one(bodies, "ServingRuntime", challenger["runtime"])
    champion_uri, challenger_uri = urlsplit(champion["storageUri"]), urlsplit(challenger["storageUri"])
    assert challenger_uri.scheme == champion_uri.scheme == "pvc"
    assert challenger_uri.hostname == champion_uri.hostname, "the same shared volume"
    assert challenger_uri.path != champion_uri.path, "its own artifact folder"
    labels = km.rendered_one(bodies, "InferenceService", CHALLENGER)["metadata"]["labels"]
    assert (
        labels["networking.knative.dev/visibility"]
        == labels["networking.kserve.io/visibility"]
        == "cluster-local"
    )


def test_scoring_scores_the_challenger_in_shadow_on_its_own_topic(
    bodies: list[dict[str, Any]], base: list[dict[str, Any]]
) -> None:
    env, base_env = _scoring_env(bodies), _scoring_env(base)
    assert {key: env[key] for key in base_env} == base_env, "the base settings are kept as they are"
    assert unknown_variables(env) == []
    scoring = _scoring(bodies)
    [challenger] = scoring.challengers
    assert challenger.name == CHALLENGER
    target = urlsplit(challenger.url or "")
    assert target.hostname == f"{CHALLENGER}-predictor.{NAMESPACE}.svc.cluster.local"
    assert urlsplit(scoring.model.target).scheme == target.scheme
    assert challenger.protocol is None, "the champion's protocol (V2 REST, as the runtime serves)"
    assert challenger.timeout_s < scoring.model.timeout_s
    assert scoring.canary_share == 0.0, "shadow only until the canary share is raised"
    assert scoring.canary_model == CHALLENGER
    assert scoring.topics.shadow_predictions == "predictions.shadow"
    assert scoring.topics.shadow_predictions not in {
        scoring.topics.predictions,
        scoring.topics.explanations,
        scoring.topics.dlq,
        scoring.topics.payments,
    }
    # The documented shape of the setting, field by field (docs/deploy.md).
    [raw] = json.loads(env["RTINFER_SCORING_CHALLENGERS"])
    assert set(raw) == {"name", "url", "protocol", "review_at", "decline_at", "model_dir", "timeout_s"}


def test_the_canary_share_is_set_on_the_revision_template(
    bodies: list[dict[str, Any]], base: list[dict[str, Any]]
) -> None:
    """Changing it changes the KService's template, so Knative rolls a revision that reads it (a
    ConfigMap edit reaches no running pod); everything else of the KService stays the base's."""
    variable = "RTINFER_SCORING_CANARY_SHARE"
    assert variable not in _data(bodies, "rtinfer-scoring")
    container, base_container = _scoring_container(bodies), _scoring_container(base)
    assert [entry for entry in container["env"] if entry["name"] == variable] == [
        {"name": variable, "value": "0"}
    ]
    assert container["env"][:-1] == base_container["env"]
    assert {k: v for k, v in container.items() if k != "env"} == {
        k: v for k, v in base_container.items() if k != "env"
    }
    service = copy.deepcopy(km.rendered_one(bodies, "Service", "rtinfer-scoring"))
    base_service = km.rendered_one(base, "Service", "rtinfer-scoring")
    service["spec"]["template"]["spec"]["containers"] = base_service["spec"]["template"]["spec"]["containers"]
    assert service == base_service


def test_the_challenger_thresholds_come_from_the_artifact_kserve_loads(bodies: list[dict[str, Any]]) -> None:
    """model_dir is the folder the InferenceService's storageUri names, on the scoring pods' mount."""
    [challenger] = _scoring(bodies).challengers
    uri = urlsplit(_model(bodies, CHALLENGER)["storageUri"])
    scoring = km.rendered_one(bodies, "Service", "rtinfer-scoring")
    [container] = scoring["spec"]["template"]["spec"]["containers"]
    volumes = {volume["name"]: volume for volume in scoring["spec"]["template"]["spec"]["volumes"]}
    [mount] = [
        m
        for m in container["volumeMounts"]
        if volumes[m["name"]].get("persistentVolumeClaim", {}).get("claimName") == uri.hostname
    ]
    assert str(challenger.model_dir) == mount["mountPath"] + uri.path
    assert challenger.review_at is None and challenger.decline_at is None


def test_the_monitor_compares_the_challenger_on_the_shadow_topic(bodies: list[dict[str, Any]]) -> None:
    data = _data(bodies, "rtinfer-monitor")
    assert unknown_variables(data) == []
    monitor = build(MonitorSettings, data)
    assert tuple(monitor.challengers) == tuple(c.name for c in _scoring(bodies).challengers)
    # Served names on both sides: the champion is its InferenceService's name, as scoring calls it.
    assert monitor.champion == _scoring(bodies).model.model_name == CHAMPION
    assert monitor.shadow_predictions_topic == _scoring(bodies).topics.shadow_predictions
    assert monitor.predictions_topic == _scoring(bodies).topics.predictions


def test_the_model_policy_covers_both_model_servers_and_nothing_else(
    bodies: list[dict[str, Any]], base: list[dict[str, Any]]
) -> None:
    policy = km.rendered_one(bodies, "NetworkPolicy", "rtinfer-model-ingress")
    selector = policy["spec"]["podSelector"]
    selected = {
        body["metadata"]["name"]
        for body in bodies
        if (labels := km.pod_labels(body)) is not None and km.selector_matches(selector, labels)
    }
    assert selected == {CHAMPION, CHALLENGER}
    base_policy = km.rendered_one(base, "NetworkPolicy", "rtinfer-model-ingress")
    assert policy["spec"]["ingress"] == base_policy["spec"]["ingress"], "the same callers as the champion's"
    assert policy["spec"]["policyTypes"] == base_policy["spec"]["policyTypes"]
