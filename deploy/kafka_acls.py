"""Render the Kafka ACLs of Peerloop's principals into the script the ACL jobs run.

One source of truth: who owns each event type (`Event.owner` in the contracts),
what each service consumes and in which groups (its real wiring, the same one
the AsyncAPI documents are generated from) and the declared topics
(`deploy/topics.yaml`). From them:

- `peerloop-<service>` (one per service): WRITE the topics of the events it owns,
  their `.dlq` twins (the outbox relay dead-letters what the broker refuses for
  good), and the `.dlq` twin of every topic it consumes (dead-lettering writes there);
  READ the topics it consumes and the consumer groups `peerloop-<service>*`.
- `peerloop-subscriber` (outside subscribers): READ and DESCRIBE every
  `peerloop.` topic, READ the groups `peerloop-subscriber*`; it writes nothing.
- `peerloop-topics` (the topic job): CREATE, DESCRIBE, DESCRIBE_CONFIGS and
  ALTER_CONFIGS on `peerloop.` topics, nothing else.

Everything else is denied (`allow.everyone.if.no.acl.found=false`); the broker's
own principal is a super user. The script runs in the official Apache Kafka image
(`kafka-acls.sh`), as docker compose's `kafka-acls` job and the Kubernetes
component `deploy/k8s/components/kafka-acls`. CI fails when it drifts:

    python deploy/kafka_acls.py --check   # exit 1 and a diff when out of date
    python deploy/kafka_acls.py --write   # regenerate after changing owners or consumers
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import topics_job
from peerloop_cli.infra.topics import load_topics
from peerloop_contracts.catalogue import SERVICES, owned_by
from peerloop_contracts.schema_tools.asyncapi import service_shape
from peerloop_contracts.topics import TOPIC_PREFIX, dlq_topic

DEPLOY_DIR = Path(__file__).resolve().parent
TOPICS_FILE = DEPLOY_DIR / "topics.yaml"
# A Kustomize component holds the script next to its Job; compose mounts the same file.
SCRIPT_FILE = DEPLOY_DIR / "k8s" / "components" / "kafka-acls" / "apply-acls.sh"

SUBSCRIBER = "peerloop-subscriber"
TOPIC_ADMIN = "peerloop-topics"
BROKER = "peerloop-broker"
"""The broker's own principal (inter-broker traffic), the one super user."""


SUBSCRIBING_SERVICES: tuple[str, ...] = ("chat", "insights")
"""Services that only consume: they own no event type, so the catalogue does not name them
(the chat app reads matching's events to speak in the chat first; insights reads all)."""
ACL_SERVICES: tuple[str, ...] = (*SERVICES, *SUBSCRIBING_SERVICES)


def principal(service: str) -> str:
    return f"peerloop-{service}"


def group_prefix(name: str) -> str:
    """Consumer groups a principal may use: `peerloop-profiles`, `peerloop-matching.candidates`.

    The principal's own name, because that is the services' default group
    (`ServiceRuntime.group_id`) and the stem of their other groups.
    """
    return name


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW binding: `principal` may do `operations` on these resources."""

    principal: str
    resource: str  # "topic" | "group"
    pattern: str  # "literal" | "prefixed"
    operations: tuple[str, ...]
    names: tuple[str, ...]


class AclError(ValueError):
    pass


def service_acls(service: str, declared: set[str]) -> list[Acl]:
    """The ACLs of one service, from what it owns and what it really consumes."""
    shape = service_shape(service)
    name = principal(service)
    owned = sorted(e.topic() for e in owned_by(service))
    consumed = sorted({e.topic() for c in shape.consumes for e in c.events})
    groups = sorted({c.group_id for c in shape.consumes})
    writes = sorted({*owned, *(dlq_topic(t) for t in [*owned, *consumed])})
    for topic in [*writes, *consumed]:
        if topic not in declared:
            raise AclError(f"{service} needs topic {topic}, which deploy/topics.yaml lacks")
    for group in groups:
        if not group.startswith(group_prefix(name)):
            raise AclError(f"{service}'s group {group} is outside {group_prefix(name)}*")
    acls = [Acl(name, "topic", "literal", ("Write",), tuple(writes))] if writes else []
    if consumed:
        acls.append(Acl(name, "topic", "literal", ("Read",), tuple(consumed)))
        acls.append(Acl(name, "group", "prefixed", ("Read",), (group_prefix(name),)))
    return acls


def all_acls() -> list[Acl]:
    declared = {spec.name for spec in load_topics(TOPICS_FILE)}
    acls = [acl for service in ACL_SERVICES for acl in service_acls(service, declared)]
    acls += [
        Acl(SUBSCRIBER, "topic", "prefixed", ("Read", "Describe"), (TOPIC_PREFIX,)),
        Acl(SUBSCRIBER, "group", "prefixed", ("Read",), (group_prefix(SUBSCRIBER),)),
        Acl(
            TOPIC_ADMIN,
            "topic",
            "prefixed",
            ("Create", "Describe", "DescribeConfigs", "AlterConfigs"),
            (TOPIC_PREFIX,),
        ),
    ]
    return acls


def principals() -> list[str]:
    """Every SCRAM user Peerloop's ACLs name, besides the broker's own."""
    return [*(principal(s) for s in ACL_SERVICES), SUBSCRIBER, TOPIC_ADMIN]


_HEADER = """\
#!/usr/bin/env bash
# Grants Peerloop's Kafka principals their ACLs. GENERATED by deploy/kafka_acls.py
# from the event owners (contracts), the services' consumers and deploy/topics.yaml:
# run `python deploy/kafka_acls.py --write` after changing any of them.
#
# Runs in the official apache/kafka image (docker compose job, Kubernetes Job) as a
# principal allowed to alter ACLs (a super user):
#   KAFKA_BOOTSTRAP_SERVERS   required
#   KAFKA_CLIENT_PROPERTIES   client config file (SASL/SSL) of that principal
#   KAFKA_BIN                 directory of kafka-acls.sh (default /opt/kafka/bin)
#   KAFKA_WAIT_SECONDS        how long to wait for the broker (default 120)
#
# Idempotent: adding an ACL that exists changes nothing. ACLs dropped from the
# declaration are not removed here (kafka-acls.sh --remove, by hand, on purpose).
set -euo pipefail

: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
client_config=()
if [ -n "${KAFKA_CLIENT_PROPERTIES:-}" ] && [ -f "${KAFKA_CLIENT_PROPERTIES}" ]; then
  client_config=(--command-config "${KAFKA_CLIENT_PROPERTIES}")
fi

kafka_acls() {
  "${KAFKA_BIN}/kafka-acls.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \\
    ${client_config[@]+"${client_config[@]}"} "$@"
}

deadline=$(( $(date +%s) + ${KAFKA_WAIT_SECONDS:-120} ))
until kafka_acls --list --topic peerloop.acl-probe >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "${deadline}" ]; then
    echo "acls: broker ${KAFKA_BOOTSTRAP_SERVERS} did not answer in time" >&2
    exit 1
  fi
  echo "acls: waiting for ${KAFKA_BOOTSTRAP_SERVERS}"
  sleep 3
done

granted=0
# allow PRINCIPAL topic|group literal|prefixed OPERATIONS(comma-separated) NAME...
allow() {
  local principal="$1" resource="$2" pattern="$3" operations="$4"
  shift 4
  local args=(--add --allow-principal "User:${principal}" --resource-pattern-type "${pattern}")
  local operation name
  for operation in ${operations//,/ }; do args+=(--operation "${operation}"); done
  for name in "$@"; do args+=("--${resource}" "${name}"); done
  kafka_acls "${args[@]}" >/dev/null
  echo "acls: ${principal} ${operations} on ${pattern} ${resource}s $*"
  granted=$(( granted + 1 ))
}

"""

_FOOTER = """
echo "acls: ${granted} grants applied"
"""


def render(acls: Iterable[Acl]) -> str:
    lines = []
    for acl in acls:
        lines.append(
            f"allow {acl.principal} {acl.resource} {acl.pattern} {','.join(acl.operations)} \\\n  "
            + " \\\n  ".join(acl.names)
        )
    return _HEADER + "\n".join(lines) + "\n" + _FOOTER


def expected_script() -> str:
    return render(all_acls())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail if the script is out of date")
    mode.add_argument("--write", action="store_true", help="regenerate the script")
    args = parser.parse_args(argv)

    return topics_job.sync_script(
        SCRIPT_FILE,
        expected_script(),
        write=args.write,
        rendered_from="the event owners, consumers and deploy/topics.yaml",
        command="python deploy/kafka_acls.py --write",
    )


if __name__ == "__main__":
    sys.exit(main())
