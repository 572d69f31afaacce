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
  "${KAFKA_BIN}/kafka-topics.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \
    ${client_config[@]+"${client_config[@]}"} "$@"
}

kafka_configs() {
  "${KAFKA_BIN}/kafka-configs.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \
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
  kafka_topics --create --if-not-exists --topic "$1" --partitions "$2" \
    --replication-factor "${replication_override:-$3}" --config "retention.ms=$4" >/dev/null
  kafka_configs --alter --entity-type topics --entity-name "$1" \
    --add-config "retention.ms=$4" >/dev/null
  echo "topics: $1 (partitions $2, retention.ms $4)"
  declared=$(( declared + 1 ))
}

# compact NAME SEGMENT_MS MAX_COMPACTION_LAG_MS DELETE_RETENTION_MS (after its `topic` line)
compact() {
  kafka_configs --alter --entity-type topics --entity-name "$1" --add-config     "cleanup.policy=compact,segment.ms=$2,max.compaction.lag.ms=$3,delete.retention.ms=$4"     >/dev/null
  echo "topics: $1 compacted (segment.ms $2, max.compaction.lag.ms $3, delete.retention.ms $4)"
}

topic peerloop.profile-registered.v1 6 1 604800000
topic peerloop.profile-registered.v1.dlq 1 1 2592000000
topic peerloop.profile-updated.v1 6 1 604800000
topic peerloop.profile-updated.v1.dlq 1 1 2592000000
topic peerloop.skill-offered.v1 6 1 604800000
topic peerloop.skill-offered.v1.dlq 1 1 2592000000
topic peerloop.skill-withdrawn.v1 6 1 604800000
topic peerloop.skill-withdrawn.v1.dlq 1 1 2592000000
topic peerloop.availability-changed.v1 6 1 604800000
topic peerloop.availability-changed.v1.dlq 1 1 2592000000
topic peerloop.learning-goal-set.v1 6 1 604800000
topic peerloop.learning-goal-set.v1.dlq 1 1 2592000000
topic peerloop.learning-goal-removed.v1 6 1 604800000
topic peerloop.learning-goal-removed.v1.dlq 1 1 2592000000
topic peerloop.skill-acquired.v1 6 1 604800000
topic peerloop.skill-acquired.v1.dlq 1 1 2592000000
topic peerloop.skill-evidence-changed.v1 6 1 604800000
topic peerloop.skill-evidence-changed.v1.dlq 1 1 2592000000
topic peerloop.profile-erased.v1 6 1 -1
topic peerloop.profile-erased.v1.dlq 1 1 2592000000
topic peerloop.help-requested.v1 6 1 604800000
topic peerloop.help-requested.v1.dlq 1 1 2592000000
topic peerloop.help-request-cancelled.v1 6 1 604800000
topic peerloop.help-request-cancelled.v1.dlq 1 1 2592000000
topic peerloop.help-request-unmatched.v1 6 1 604800000
topic peerloop.help-request-unmatched.v1.dlq 1 1 2592000000
topic peerloop.help-request-waiting.v1 6 1 604800000
topic peerloop.help-request-waiting.v1.dlq 1 1 2592000000
topic peerloop.match-proposed.v1 6 1 604800000
topic peerloop.match-proposed.v1.dlq 1 1 2592000000
topic peerloop.match-accepted.v1 6 1 604800000
topic peerloop.match-accepted.v1.dlq 1 1 2592000000
topic peerloop.match-declined.v1 6 1 604800000
topic peerloop.match-declined.v1.dlq 1 1 2592000000
topic peerloop.match-expired.v1 6 1 604800000
topic peerloop.match-expired.v1.dlq 1 1 2592000000
topic peerloop.session-completed.v1 6 1 604800000
topic peerloop.session-completed.v1.dlq 1 1 2592000000
topic peerloop.session-not-happened.v1 6 1 604800000
topic peerloop.session-not-happened.v1.dlq 1 1 2592000000
topic peerloop.session-rescheduled.v1 6 1 604800000
topic peerloop.session-rescheduled.v1.dlq 1 1 2592000000
topic peerloop.session-cancelled.v1 6 1 604800000
topic peerloop.session-cancelled.v1.dlq 1 1 2592000000
topic peerloop.feedback-given.v1 6 1 604800000
topic peerloop.feedback-given.v1.dlq 1 1 2592000000
topic peerloop.person-state.v1 6 1 -1
compact peerloop.person-state.v1 86400000 604800000 86400000
topic peerloop.person-state.v1.dlq 1 1 2592000000
topic peerloop.help-request-state.v1 6 1 -1
compact peerloop.help-request-state.v1 86400000 604800000 86400000
topic peerloop.help-request-state.v1.dlq 1 1 2592000000
topic peerloop.organisation-skill-defined.v1 6 1 -1
compact peerloop.organisation-skill-defined.v1 86400000 604800000 86400000
topic peerloop.organisation-skill-defined.v1.dlq 1 1 2592000000
topic peerloop.programme-created.v1 6 1 604800000
topic peerloop.programme-created.v1.dlq 1 1 2592000000
topic peerloop.programme-previewed.v1 6 1 604800000
topic peerloop.programme-previewed.v1.dlq 1 1 2592000000
topic peerloop.programme-adjusted.v1 6 1 604800000
topic peerloop.programme-adjusted.v1.dlq 1 1 2592000000
topic peerloop.programme-published.v1 6 1 604800000
topic peerloop.programme-published.v1.dlq 1 1 2592000000
topic peerloop.programme-pair-proposed.v1 6 1 604800000
topic peerloop.programme-pair-proposed.v1.dlq 1 1 2592000000
topic peerloop.programme-mentee-unassigned.v1 6 1 604800000
topic peerloop.programme-mentee-unassigned.v1.dlq 1 1 2592000000
topic peerloop.programme-closed.v1 6 1 604800000
topic peerloop.programme-closed.v1.dlq 1 1 2592000000
topic peerloop.notification-delivered.v1 6 1 604800000
topic peerloop.notification-delivered.v1.dlq 1 1 2592000000
topic peerloop.notification-failed.v1 6 1 604800000
topic peerloop.notification-failed.v1.dlq 1 1 2592000000

echo "topics: ${declared} declared topics present"
