"""Render the topic-creation script that docker compose and Kubernetes run.

Both run the official Apache Kafka image, which has `kafka-topics.sh` but no
Python, so the declared list (`deploy/topics.yaml`) is turned into a plain bash
script once, here, and committed. CI fails when the committed script drifts
from topics.yaml:

    python deploy/topics_job.py --check   # exit 1 and a diff when out of date
    python deploy/topics_job.py --write   # regenerate after editing topics.yaml
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from peerloop_cli.infra.topics import TopicSpec, load_topics

DEPLOY_DIR = Path(__file__).resolve().parent
TOPICS_FILE = DEPLOY_DIR / "topics.yaml"
# Kustomize only reads files below its own root, so the one script lives there
# and docker compose mounts it from the same place.
SCRIPT_FILE = DEPLOY_DIR / "k8s" / "base" / "topics" / "create-topics.sh"

_HEADER = """\
#!/usr/bin/env bash
# Creates Peerloop's Kafka topics. GENERATED from deploy/topics.yaml by
# deploy/topics_job.py: edit topics.yaml and run `python deploy/topics_job.py --write`.
#
# Runs in the official apache/kafka image (docker compose job, Kubernetes Job).
#   KAFKA_BOOTSTRAP_SERVERS            required
#   KAFKA_BIN                          directory of kafka-topics.sh (default /opt/kafka/bin)
#   KAFKA_CLIENT_PROPERTIES            optional client config file (SASL/SSL), if it exists
#   PEERLOOP_TOPIC_REPLICATION_FACTOR  overrides the declared factor (e.g. 3 on a 3-broker cluster)
#   KAFKA_WAIT_SECONDS                 how long to wait for the broker (default 120)
#
# Idempotent: existing topics are kept (partitions are never changed here, since
# adding partitions moves keys and breaks per-aggregate ordering); their
# retention is set to the declared value.
set -euo pipefail

: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
replication_override="${PEERLOOP_TOPIC_REPLICATION_FACTOR:-}"
client_config=()
if [ -n "${KAFKA_CLIENT_PROPERTIES:-}" ] && [ -f "${KAFKA_CLIENT_PROPERTIES}" ]; then
  client_config=(--command-config "${KAFKA_CLIENT_PROPERTIES}")
fi

kafka_topics() {
  "${KAFKA_BIN}/kafka-topics.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \\
    ${client_config[@]+"${client_config[@]}"} "$@"
}

kafka_configs() {
  "${KAFKA_BIN}/kafka-configs.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \\
    ${client_config[@]+"${client_config[@]}"} "$@"
}

deadline=$(( $(date +%s) + ${KAFKA_WAIT_SECONDS:-120} ))
until kafka_topics --list >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "${deadline}" ]; then
    echo "topics: broker ${KAFKA_BOOTSTRAP_SERVERS} did not answer in time" >&2
    exit 1
  fi
  echo "topics: waiting for ${KAFKA_BOOTSTRAP_SERVERS}"
  sleep 3
done

declared=0
# topic NAME PARTITIONS REPLICATION_FACTOR RETENTION_MS
topic() {
  kafka_topics --create --if-not-exists --topic "$1" --partitions "$2" \\
    --replication-factor "${replication_override:-$3}" --config "retention.ms=$4" >/dev/null
  kafka_configs --alter --entity-type topics --entity-name "$1" \\
    --add-config "retention.ms=$4" >/dev/null
  echo "topics: $1 (partitions $2, retention.ms $4)"
  declared=$(( declared + 1 ))
}

# compact NAME SEGMENT_MS MAX_COMPACTION_LAG_MS DELETE_RETENTION_MS (after its `topic` line)
compact() {
  kafka_configs --alter --entity-type topics --entity-name "$1" --add-config \
    "cleanup.policy=compact,segment.ms=$2,max.compaction.lag.ms=$3,delete.retention.ms=$4" \
    >/dev/null
  echo "topics: $1 compacted (segment.ms $2, max.compaction.lag.ms $3, delete.retention.ms $4)"
}

"""

_FOOTER = """
echo "topics: ${declared} declared topics present"
"""


def render(specs: Sequence[TopicSpec]) -> str:
    """The whole script for these topics, one `topic` line each, in declaration order;
    a compacted topic's `compact` line follows its own."""
    lines: list[str] = []
    for spec in specs:
        lines.append(
            f"topic {spec.name} {spec.partitions} {spec.replication_factor} {spec.retention_ms}"
        )
        if spec.compaction is not None:
            c = spec.compaction
            lines.append(
                f"compact {spec.name} {c.segment_ms} {c.max_compaction_lag_ms} "
                f"{c.delete_retention_ms}"
            )
    return _HEADER + "\n".join(lines) + "\n" + _FOOTER


def expected_script() -> str:
    return render(load_topics(TOPICS_FILE))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail if the script is out of date")
    mode.add_argument("--write", action="store_true", help="regenerate the script")
    args = parser.parse_args(argv)

    return sync_script(
        SCRIPT_FILE,
        expected_script(),
        write=args.write,
        rendered_from="deploy/topics.yaml",
        command="python deploy/topics_job.py --write",
    )


def sync_script(path: Path, want: str, *, write: bool, rendered_from: str, command: str) -> int:
    """Write a generated script, or check the committed one against what it should be."""
    where = path.relative_to(DEPLOY_DIR.parent) if path.is_relative_to(DEPLOY_DIR.parent) else path
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(want, encoding="utf-8")
        path.chmod(0o755)
        print(f"wrote {where}")
        return 0
    have = path.read_text(encoding="utf-8") if path.exists() else ""
    if have == want:
        print(f"{where} matches {rendered_from}")
        return 0
    diff = difflib.unified_diff(
        have.splitlines(keepends=True),
        want.splitlines(keepends=True),
        fromfile=str(path),
        tofile=f"rendered from {rendered_from}",
    )
    sys.stderr.writelines(diff)
    print(f"error: {where} is out of date; run `{command}`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
