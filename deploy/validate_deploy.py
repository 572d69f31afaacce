"""Offline validation of the deployment files: no Docker engine, no cluster, no network.

1. The topic script is what deploy/topics.yaml says (`topics_job.py`), the ACL
   script what the event owners and consumers say (`kafka_acls.py`).
2. docker-compose.yml against the Compose Specification's JSON Schema (the copy
   `check-jsonschema` ships), then Peerloop's own rules: every PEERLOOP_* variable
   is a setting the service really reads, ports match, the topic job runs first.
3. The Kustomize base and every overlay, rendered by the real `kustomize`
   (built once from its Go module into the peerloop cache), against the
   Kubernetes JSON Schemas `kubernetes-validate` ships (strict: unknown fields
   fail), for the oldest and newest Kubernetes release we support; then the same
   rules plus probes, resources, disruption budgets and autoscalers.

    python deploy/validate_deploy.py      # exit 1 with one line per problem
"""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.resources
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import yaml
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kafka_acls
import topics_job
from peerloop_cli.infra.paths import cache_dir
from peerloop_cli.infra.topics import load_topics

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "deploy" / "k8s"
KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
KUSTOMIZE_VERSION = "v5.7.1"  # the newest that builds with Go 1.22, our floor
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

SERVICES: Mapping[str, str] = {
    "profiles": "peerloop_profiles.config",
    "matching": "peerloop_matching.config",
    "notifications": "peerloop_notifications.config",
    "chat": "peerloop_chat.config",
    "insights": "peerloop_insights.config",
}
SETTINGS_PREFIX = "PEERLOOP_"
# The web app calls the services over HTTP only (no Kafka, no store): its settings
# have their own prefix and are checked by name.
WEB_SETTINGS = "peerloop_web.settings"
WEB_PREFIX = "PEERLOOP_WEB_"
# Read by the token-validation library (peerloop_runtime.auth) through
# the services' `auth` settings. Until a service's Settings has that field, they
# are accepted by name; from then on the ordinary check applies.
AUTH_SETTINGS = ("PEERLOOP_AUTH__ISSUER", "PEERLOOP_AUTH__AUDIENCE")
AUDIENCE = "peerloop"

Document = dict[str, Any]


# --- service settings ------------------------------------------------------------


def settings_class(service: str) -> Any:
    return importlib.import_module(SERVICES[service]).Settings


def unknown_settings(service: str, names: Iterable[str]) -> list[str]:
    """PEERLOOP_* names the service would silently ignore (settings use extra="ignore")."""
    settings = settings_class(service)
    fields = {name.upper() for name in settings.model_fields}
    nested = settings.model_config.get("env_nested_delimiter") or None
    unknown = []
    for name in names:
        if not name.startswith(SETTINGS_PREFIX):
            continue
        field = name.removeprefix(SETTINGS_PREFIX)
        inner = None
        if nested and nested in field:
            field, inner = field.split(nested, 1)
        if field not in fields or (
            inner is not None and not _nested_field_known(settings, field, inner)
        ):
            unknown.append(name)
    return sorted(unknown)


def _nested_field_known(settings: Any, field: str, inner: str) -> bool:
    """`PEERLOOP_AUTH__OPEN_DOCS`: `open_docs` must be a field of the `auth` model too."""
    annotation = settings.model_fields[field.lower()].annotation
    models = [a for a in (*get_args(annotation), annotation) if isinstance(a, type)]
    model = next((m for m in models if issubclass(m, BaseModel)), None)
    return model is None or inner.lower() in model.model_fields


def unknown_web_settings(names: Iterable[str]) -> list[str]:
    fields = {name.upper() for name in importlib.import_module(WEB_SETTINGS).Settings.model_fields}
    return sorted(
        n for n in names if n.startswith(WEB_PREFIX) and n.removeprefix(WEB_PREFIX) not in fields
    )


def default_port(service: str) -> int:
    return int(settings_class(service).model_fields["http_port"].default)


def consumer_partitions() -> int:
    """Replicas beyond the smallest event topic's partition count would idle."""
    return min(
        spec.partitions for spec in load_topics(topics_job.TOPICS_FILE) if not spec.dead_letter
    )


# --- docker compose --------------------------------------------------------------


def compose_schema() -> Any:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendored.joinpath("compose-spec.json").read_text(encoding="utf-8"))


def load_yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose_problems(doc: Any, *, where: str = "docker-compose.yml") -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = [
        f"{where}: {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]
    if problems:
        return problems
    services: Mapping[str, Any] = doc.get("services", {})
    for name in SERVICES:
        spec = services.get(name)
        if spec is None:
            problems.append(f"{where}: service {name!r} is missing")
            continue
        env = _compose_env(spec)
        for bad in unknown_settings(name, env):
            problems.append(f"{where}: {name}: {bad} is not a setting of peerloop-{name}")
        port = str(default_port(name))
        if env.get("PEERLOOP_HTTP_PORT") != port:
            problems.append(f"{where}: {name}: PEERLOOP_HTTP_PORT must be {port}")
        if env.get("PEERLOOP_HTTP_HOST") != "0.0.0.0":
            problems.append(f"{where}: {name}: PEERLOOP_HTTP_HOST must be 0.0.0.0 in a container")
        issuer_host = urlsplit(env.get("PEERLOOP_AUTH__ISSUER", "")).hostname or ""
        if issuer_host not in services:
            problems.append(f"{where}: {name}: token issuer host {issuer_host!r} is no service")
        if env.get("PEERLOOP_AUTH__AUDIENCE") != AUDIENCE:
            problems.append(f"{where}: {name}: PEERLOOP_AUTH__AUDIENCE must be {AUDIENCE}")
        bootstrap_host = env.get("PEERLOOP_KAFKA_BOOTSTRAP_SERVERS", "").split(":")[0]
        if bootstrap_host not in services:
            problems.append(f"{where}: {name}: Kafka bootstrap {bootstrap_host!r} is no service")
        dockerfile = spec.get("build", {}).get("dockerfile", "")
        if dockerfile != f"services/{name}/Dockerfile" or not (ROOT / dockerfile).is_file():
            problems.append(f"{where}: {name}: must build services/{name}/Dockerfile")
        after = spec.get("depends_on", {})
        if after.get("kafka-topics", {}).get("condition") != "service_completed_successfully":
            problems.append(f"{where}: {name}: must start after the kafka-topics job succeeded")
    web = services.get("web")
    if web is None:
        problems.append(f"{where}: service 'web' is missing")
    else:
        for bad in unknown_web_settings(_compose_env(web)):
            problems.append(f"{where}: web: {bad} is not a setting of peerloop-web")
    job = services.get("kafka-topics", {})
    script = f"./{topics_job.SCRIPT_FILE.relative_to(ROOT)}"
    if not any(str(v).startswith(script + ":") for v in job.get("volumes", [])):
        problems.append(f"{where}: kafka-topics must mount {script}")
    for infra in ("kafka", "mongodb", "keycloak"):
        if "healthcheck" not in services.get(infra, {}):
            problems.append(f"{where}: {infra} needs a healthcheck the services wait for")
    return problems + kafka_security_problems(services, where=where)


BROKER_SECURITY = {
    "KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
    "KAFKA_SUPER_USERS": f"User:{kafka_acls.BROKER}",
    "KAFKA_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
}


def kafka_security_problems(services: Mapping[str, Any], *, where: str) -> list[str]:
    """SCRAM principals for every service, ACLs applied before the topics and services."""
    problems = []
    broker = _compose_env(services.get("kafka", {}))
    for name, value in BROKER_SECURITY.items():
        if broker.get(name) != value:
            problems.append(f"{where}: kafka: {name} must be {value}")
    protocols = broker.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "")
    if "PLAINTEXT" in protocols.replace("SASL_PLAINTEXT", ""):
        problems.append(f"{where}: kafka: a PLAINTEXT listener lets anyone in as ANONYMOUS")
    users = dict(
        pair.split("=", 1) for pair in broker.get("PEERLOOP_SCRAM_USERS", "").split() if "=" in pair
    )
    for missing in sorted(set(kafka_acls.principals()) - set(users)):
        problems.append(f"{where}: kafka: PEERLOOP_SCRAM_USERS lacks the principal {missing}")
    for name in SERVICES:
        env = _compose_env(services.get(name, {}))
        user = env.get("PEERLOOP_KAFKA_SASL_USERNAME")
        if user != kafka_acls.principal(name):
            problems.append(f"{where}: {name}: must connect as {kafka_acls.principal(name)}")
        elif env.get("PEERLOOP_KAFKA_SASL_PASSWORD") != users.get(user):
            problems.append(f"{where}: {name}: its Kafka password is not the one of {user}")
        if env.get("PEERLOOP_KAFKA_SECURITY_PROTOCOL") != "SASL_PLAINTEXT":
            problems.append(
                f"{where}: {name}: PEERLOOP_KAFKA_SECURITY_PROTOCOL must be SASL_PLAINTEXT"
            )
    job = services.get("kafka-acls", {})
    script = f"./{kafka_acls.SCRIPT_FILE.relative_to(ROOT)}"
    if not any(str(v).startswith(script + ":") for v in job.get("volumes", [])):
        problems.append(f"{where}: kafka-acls must mount {script}")
    topics = services.get("kafka-topics", {})
    after = topics.get("depends_on", {}).get("kafka-acls", {})
    if after.get("condition") != "service_completed_successfully":
        problems.append(f"{where}: kafka-topics must start after the kafka-acls job succeeded")
    if _compose_env(topics).get("KAFKA_SASL_USERNAME") != kafka_acls.TOPIC_ADMIN:
        problems.append(f"{where}: kafka-topics must run as {kafka_acls.TOPIC_ADMIN}")
    return problems


def _compose_env(spec: Mapping[str, Any]) -> dict[str, str]:
    env = spec.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


# --- kubernetes ------------------------------------------------------------------


def kustomize_binary() -> Path:
    """The pinned kustomize, built from its Go module the first time (about a minute)."""
    found = os.environ.get("PEERLOOP_KUSTOMIZE")
    if found:
        return Path(found)
    target = cache_dir() / "tools" / f"kustomize-{KUSTOMIZE_VERSION}"
    binary = target / "kustomize"
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise SystemExit("error: Go 1.22+ is needed once to build kustomize (https://go.dev/dl)")
    print(f"• building kustomize {KUSTOMIZE_VERSION} (cached in {target})", file=sys.stderr)
    env = dict(os.environ, GOBIN=str(target), GOTOOLCHAIN="local", CGO_ENABLED="0")
    subprocess.run(  # noqa: S603 - a fixed module path and version
        [go, "install", f"{KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION}"], check=True, env=env
    )
    return binary


def kustomizations() -> list[Path]:
    """The base and the overlays; components are checked inside the overlays using them."""
    return sorted(
        p.parent
        for p in K8S_DIR.rglob("kustomization.yaml")
        if load_yaml_file(p).get("kind") != "Component"
    )


def render(kustomize: Path, directory: Path) -> list[Document]:
    done = subprocess.run(  # noqa: S603 - our own binary on our own directory
        [str(kustomize), "build", str(directory)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ValueError(f"kustomize build {directory}: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def schema_problems(docs: Sequence[Document], *, where: str) -> list[str]:
    from kubernetes_validate import utils as kv  # type: ignore[import-untyped,unused-ignore]

    problems = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        for version in KUBERNETES_VERSIONS:
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as exc:
                path = "/".join(map(str, exc.path)) or "<root>"
                problems.append(f"{where}: {name} (Kubernetes {version}): {path}: {exc.message}")
            except kv.SchemaNotFoundError:
                problems.append(f"{where}: {name}: no schema for {doc.get('apiVersion')}")
    return problems


def policy_problems(docs: Sequence[Document], *, where: str) -> list[str]:
    """Peerloop's rules for a rendered set of manifests."""
    by_kind: dict[str, list[Document]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    data = _config_data(docs)
    problems = []
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    for service in SERVICES:
        deployment = deployments.get(service)
        if deployment is None:
            problems.append(f"{where}: Deployment {service} is missing")
            continue
        problems += [
            f"{where}: Deployment {service}: {p}"
            for p in _deployment_problems(service, deployment, data)
        ]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if not any(
            _selects(p["spec"]["selector"], labels) for p in by_kind.get("PodDisruptionBudget", [])
        ):
            problems.append(f"{where}: Deployment {service}: no PodDisruptionBudget covers it")
        hpas = [
            h
            for h in by_kind.get("HorizontalPodAutoscaler", [])
            if h["spec"]["scaleTargetRef"]["name"] == service
        ]
        if not hpas:
            problems.append(f"{where}: Deployment {service}: no HorizontalPodAutoscaler")
        for hpa in hpas:
            if hpa["spec"]["maxReplicas"] > consumer_partitions():
                problems.append(
                    f"{where}: HorizontalPodAutoscaler {service}: maxReplicas above the "
                    f"{consumer_partitions()} partitions a consumer group can split"
                )
    if "web" not in deployments:
        problems.append(f"{where}: Deployment web is missing")
    else:
        [container] = deployments["web"]["spec"]["template"]["spec"]["containers"]
        sources = {
            (source.get("configMapRef") or source.get("secretRef") or {}).get("name")
            for source in container.get("envFrom", [])
        }
        web_env = [k.split("/", 2)[2] for k in data if k.split("/")[1] in sources]
        web_env += [e["name"] for e in container.get("env", [])]
        for bad in unknown_web_settings(web_env):
            problems.append(f"{where}: Deployment web: {bad} is not a setting of peerloop-web")
    scripts = [v for k, v in data.items() if k.endswith("/create-topics.sh")]
    if scripts != [topics_job.expected_script()]:
        problems.append(
            f"{where}: the topics ConfigMap must hold the script generated from topics.yaml"
        )
    if not any(j["metadata"]["name"] == "peerloop-topics" for j in by_kind.get("Job", [])):
        problems.append(f"{where}: Job peerloop-topics is missing")
    acl_scripts = [v for k, v in data.items() if k.endswith("/apply-acls.sh")]
    if acl_scripts and acl_scripts != [kafka_acls.expected_script()]:
        problems.append(
            f"{where}: the ACL ConfigMap must hold the script deploy/kafka_acls.py renders"
        )
    if acl_scripts:
        problems += [
            f"{where}: Deployment {service}: {p}"
            for service, deployment in deployments.items()
            if service in SERVICES
            for p in _principal_problems(service, deployment, data)
        ]
    return problems


def _principal_problems(service: str, deployment: Document, data: Mapping[str, str]) -> list[str]:
    """Where ACLs are enforced, a service must connect as its own principal, from a Secret."""
    [container] = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service
    ]
    env = {e["name"]: e for e in container.get("env", [])}
    problems = []
    for name in ("PEERLOOP_KAFKA_SASL_USERNAME", "PEERLOOP_KAFKA_SASL_PASSWORD"):
        ref = env.get(name, {}).get("valueFrom", {}).get("secretKeyRef")
        if ref is None:
            problems.append(f"{name} must come from a Secret")
        elif name.endswith("USERNAME"):
            user = data.get(f"Secret/{ref['name']}/{ref['key']}")
            if user != kafka_acls.principal(service):
                problems.append(f"must connect to Kafka as {kafka_acls.principal(service)}")
    return problems


def _deployment_problems(service: str, deployment: Document, data: Mapping[str, str]) -> list[str]:
    pod = deployment["spec"]["template"]["spec"]
    [container] = [c for c in pod["containers"] if c["name"] == service]
    problems = []
    port = default_port(service)
    if [p.get("containerPort") for p in container.get("ports", [])] != [port]:
        problems.append(f"container port must be {port}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        if container.get(probe, {}).get("httpGet", {}).get("path") != path:
            problems.append(f"{probe} must GET {path}")
    resources = container.get("resources", {})
    for need in ("requests.cpu", "requests.memory", "limits.memory"):
        section, key = need.split(".")
        if key not in resources.get(section, {}):
            problems.append(f"resources.{need} is not set")
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append("pods must run as non-root")

    env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef") or source.get("secretRef") or {}
        prefix = "ConfigMap/" if "configMapRef" in source else "Secret/"
        env.update(
            {
                k.split("/", 2)[2]: v
                for k, v in data.items()
                if k.startswith(f"{prefix}{ref.get('name')}/")
            }
        )
    for bad in unknown_settings(service, env):
        problems.append(f"{bad} is not a setting of peerloop-{service}")
    if env.get("PEERLOOP_HTTP_PORT") != str(port):
        problems.append(f"PEERLOOP_HTTP_PORT must be {port}")
    for need in (
        "PEERLOOP_KAFKA_BOOTSTRAP_SERVERS",
        "PEERLOOP_MONGODB_URI",
        "PEERLOOP_DATABASE",
        *AUTH_SETTINGS,
    ):
        if not env.get(need):
            problems.append(f"{need} is not set")
    grace = float(env.get("PEERLOOP_SHUTDOWN_GRACE_SECONDS", "20"))
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    if pod.get("terminationGracePeriodSeconds", 30) <= grace + pre_stop:
        problems.append("terminationGracePeriodSeconds must exceed the shutdown grace plus preStop")
    return problems


def _config_data(docs: Iterable[Document]) -> dict[str, str]:
    """`<Kind>/<name>/<key>` -> value of every ConfigMap and Secret (Secrets decoded)."""
    found = {}
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] == "ConfigMap":
            found.update({f"ConfigMap/{name}/{k}": str(v) for k, v in doc.get("data", {}).items()})
        elif doc["kind"] == "Secret":
            found.update(
                {
                    f"Secret/{name}/{k}": base64.b64decode(v).decode()
                    for k, v in doc.get("data", {}).items()
                }
            )
            found.update(
                {f"Secret/{name}/{k}": str(v) for k, v in doc.get("stringData", {}).items()}
            )
    return found


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


# --- main ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Validate docker-compose.yml and deploy/k8s offline."
    ).parse_args(argv)
    problems: list[str] = []
    if topics_job.main(["--check"]) != 0:
        problems.append("deploy/k8s/base/topics/create-topics.sh is out of date")
    if kafka_acls.main(["--check"]) != 0:
        problems.append(f"{kafka_acls.SCRIPT_FILE.relative_to(ROOT)} is out of date")
    problems += compose_problems(load_yaml_file(COMPOSE_FILE))
    print(f"compose: {COMPOSE_FILE.name} checked against the Compose Specification")
    kustomize = kustomize_binary()
    for directory in kustomizations():
        where = str(directory.relative_to(ROOT))
        try:
            docs = render(kustomize, directory)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        problems += schema_problems(docs, where=where)
        problems += policy_problems(docs, where=where)
        print(
            f"kubernetes: {where}: {len(docs)} resources checked "
            f"(Kubernetes {', '.join(KUBERNETES_VERSIONS)}, strict)"
        )
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(f"deploy: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("deploy: compose and Kubernetes manifests are valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
