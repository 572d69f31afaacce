"""deploy/k8s renders with kustomize and passes the Kubernetes schemas and Peerloop's rules."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import kafka_acls
import pytest
import validate_deploy

Docs = list[dict[str, Any]]
BASE = "deploy/k8s/base"
OVERLAY = "deploy/k8s/overlays/example"


def _find(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _container(docs: Docs, name: str) -> dict[str, Any]:
    return _find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def test_base_and_example_overlay_are_both_rendered(rendered: dict[str, Docs]) -> None:
    assert set(rendered) == {BASE, OVERLAY}


@pytest.mark.parametrize("kustomization", [BASE, OVERLAY])
def test_manifests_pass_the_kubernetes_schemas_strictly(
    rendered: dict[str, Docs], kustomization: str
) -> None:
    assert validate_deploy.schema_problems(rendered[kustomization], where=kustomization) == []


@pytest.mark.parametrize("kustomization", [BASE, OVERLAY])
def test_manifests_follow_peerloops_deployment_rules(
    rendered: dict[str, Docs], kustomization: str
) -> None:
    assert validate_deploy.policy_problems(rendered[kustomization], where=kustomization) == []


def test_every_service_has_probes_resources_budget_and_autoscaler(
    rendered: dict[str, Docs],
) -> None:
    docs = rendered[BASE]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for service in validate_deploy.SERVICES:
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
            assert (kind, service) in kinds
        container = _container(docs, service)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["limits"]["memory"]


def test_a_schema_typo_is_rejected(rendered: dict[str, Docs]) -> None:
    docs = copy.deepcopy(rendered[BASE])
    _find(docs, "Deployment", "matching")["spec"]["replica"] = 2
    problems = validate_deploy.schema_problems(docs, where=BASE)
    assert any("Deployment/matching" in p and "replica" in p for p in problems), problems


def _remove_readiness(docs: Docs) -> None:
    del _container(docs, "profiles")["readinessProbe"]


def _too_many_replicas(docs: Docs) -> None:
    _find(docs, "HorizontalPodAutoscaler", "matching")["spec"]["maxReplicas"] = 12


def _misspelt_setting(docs: Docs) -> None:
    config = next(d for d in docs if d["metadata"]["name"].startswith("peerloop-config"))
    config["data"]["PEERLOOP_KAFKA_BOOTSTRAP"] = "kafka:9092"


def _no_issuer(docs: Docs) -> None:
    config = next(d for d in docs if d["metadata"]["name"].startswith("peerloop-config"))
    del config["data"]["PEERLOOP_AUTH__ISSUER"]


def _no_budget(docs: Docs) -> None:
    docs.remove(_find(docs, "PodDisruptionBudget", "notifications"))


def _short_grace(docs: Docs) -> None:
    _find(docs, "Deployment", "profiles")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"
    ] = 10


def _no_limits(docs: Docs) -> None:
    del _container(docs, "matching")["resources"]["limits"]


def _wrong_port(docs: Docs) -> None:
    _container(docs, "notifications")["ports"][0]["containerPort"] = 8000


def _hand_edited_topics(docs: Docs) -> None:
    topics = next(d for d in docs if d["metadata"]["name"].startswith("peerloop-topics"))
    topics["data"]["create-topics.sh"] += "topic extra.v1 1 1 1000\n"


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (_remove_readiness, "Deployment profiles: readinessProbe must GET /readyz"),
        (_too_many_replicas, "maxReplicas above the 6 partitions"),
        (_misspelt_setting, "PEERLOOP_KAFKA_BOOTSTRAP is not a setting of peerloop-"),
        (_no_issuer, "PEERLOOP_AUTH__ISSUER is not set"),
        (_no_budget, "Deployment notifications: no PodDisruptionBudget"),
        (_short_grace, "terminationGracePeriodSeconds must exceed"),
        (_no_limits, "resources.limits.memory is not set"),
        (_wrong_port, "Deployment notifications: container port must be 8103"),
        (_hand_edited_topics, "generated from topics.yaml"),
    ],
)
def test_rule_violations_are_reported(
    rendered: dict[str, Docs], mutate: Callable[[Docs], None], complaint: str
) -> None:
    docs = copy.deepcopy(rendered[BASE])
    mutate(docs)
    problems = validate_deploy.policy_problems(docs, where=BASE)
    assert any(complaint in p for p in problems), problems


def test_overlay_targets_a_production_cluster(rendered: dict[str, Docs]) -> None:
    docs = rendered[OVERLAY]
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {
        "peerloop"
    }
    for service in validate_deploy.SERVICES:
        assert _container(docs, service)["image"].startswith(
            f"registry.example.com/peerloop/{service}:"
        )
        assert _find(docs, "HorizontalPodAutoscaler", service)["spec"]["minReplicas"] == 3
    job = _find(docs, "Job", "peerloop-topics")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in job["containers"][0]["env"]}
    assert env["PEERLOOP_TOPIC_REPLICATION_FACTOR"] == "3"
    [client] = [d for d in docs if d["metadata"]["name"].startswith("peerloop-kafka-client")]
    properties = base64.b64decode(client["data"]["client.properties"]).decode()
    assert "security.protocol=SASL_SSL" in properties
    [store] = [d for d in docs if d["metadata"]["name"].startswith("peerloop-store")]
    uri = base64.b64decode(store["data"]["PEERLOOP_MONGODB_URI"]).decode()
    assert "replicaSet=rs0" in uri
    assert "tls=true" in uri
    [config] = [d for d in docs if d["metadata"]["name"].startswith("peerloop-config")]
    # The enterprise's own identity provider, over HTTPS; the audience stays peerloop.
    assert config["data"]["PEERLOOP_AUTH__ISSUER"].startswith("https://")
    assert config["data"]["PEERLOOP_AUTH__AUDIENCE"] == "peerloop"


def test_store_uri_is_a_secret_and_kafka_settings_a_configmap(rendered: dict[str, Docs]) -> None:
    docs = rendered[BASE]
    secrets = [d for d in docs if d["kind"] == "Secret"]
    configs = [d for d in docs if d["kind"] == "ConfigMap"]
    assert any("PEERLOOP_MONGODB_URI" in d.get("data", {}) for d in secrets)
    assert not any("PEERLOOP_MONGODB_URI" in d.get("data", {}) for d in configs)
    assert any("PEERLOOP_KAFKA_BOOTSTRAP_SERVERS" in d.get("data", {}) for d in configs)


def _hand_edited_acls(docs: Docs) -> None:
    acls = next(
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("peerloop-kafka-acls")
    )
    acls["data"]["apply-acls.sh"] += (
        "allow peerloop-profiles topic prefixed Write \\\n  peerloop.\n"
    )


def _borrowed_principal(docs: Docs) -> None:
    env = _container(docs, "matching")["env"]
    [user] = [e for e in env if e["name"] == "PEERLOOP_KAFKA_SASL_USERNAME"]
    user["valueFrom"]["secretKeyRef"]["name"] = next(
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "Secret" and d["metadata"]["name"].startswith("peerloop-kafka-profiles")
    )


def _password_in_plain_sight(docs: Docs) -> None:
    env = _container(docs, "notifications")["env"]
    [password] = [e for e in env if e["name"] == "PEERLOOP_KAFKA_SASL_PASSWORD"]
    del password["valueFrom"]
    password["value"] = "hunter2"


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (_hand_edited_acls, "the ACL ConfigMap must hold the script deploy/kafka_acls.py renders"),
        (_borrowed_principal, "Deployment matching: must connect to Kafka as peerloop-matching"),
        (_password_in_plain_sight, "PEERLOOP_KAFKA_SASL_PASSWORD must come from a Secret"),
    ],
)
def test_acl_rule_violations_are_reported(
    rendered: dict[str, Docs], mutate: Callable[[Docs], None], complaint: str
) -> None:
    docs = copy.deepcopy(rendered[OVERLAY])
    mutate(docs)
    problems = validate_deploy.policy_problems(docs, where=OVERLAY)
    assert any(complaint in p for p in problems), problems


def test_overlay_grants_acls_and_gives_each_service_its_own_principal(
    rendered: dict[str, Docs],
) -> None:
    docs = rendered[OVERLAY]
    job = _find(docs, "Job", "peerloop-kafka-acls")["spec"]["template"]["spec"]
    [admin] = [v for v in job["volumes"] if v["name"] == "kafka-admin"]
    assert admin["secret"]["secretName"].startswith("peerloop-kafka-admin")
    [script] = [
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("peerloop-kafka-acls")
    ]
    assert script["data"]["apply-acls.sh"] == kafka_acls.expected_script()
    [config] = [d for d in docs if d["metadata"]["name"].startswith("peerloop-config")]
    assert config["data"]["PEERLOOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["data"]["PEERLOOP_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    [client] = [d for d in docs if d["metadata"]["name"].startswith("peerloop-kafka-client")]
    properties = base64.b64decode(client["data"]["client.properties"]).decode()
    assert f'username="{kafka_acls.TOPIC_ADMIN}"' in properties
    assert validate_deploy.policy_problems(docs, where=OVERLAY) == []
    # The base (plaintext, no authorizer) has no ACL Job.
    assert not any(d["kind"] == "Job" and "acls" in d["metadata"]["name"] for d in rendered[BASE])


@pytest.mark.parametrize("service", sorted(validate_deploy.SERVICES))
def test_a_misspelt_nested_setting_is_caught(service: str) -> None:
    """A typo under PEERLOOP_AUTH__ would be ignored by the service: the check names it."""
    names = ["PEERLOOP_AUTH__ISSUER", "PEERLOOP_AUTH__OPEN_DOCS", "PEERLOOP_AUTH__OPEN_DOX"]
    assert validate_deploy.unknown_settings(service, names) == ["PEERLOOP_AUTH__OPEN_DOX"]
