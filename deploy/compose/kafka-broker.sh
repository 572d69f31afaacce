#!/usr/bin/env bash
# Entrypoint of docker compose's `kafka` service (the official apache/kafka image):
# the image's own start-up (configure from KAFKA_* variables, format, launch), with
# what SASL/SCRAM needs before the broker first starts:
#
# - SCRAM credentials live in the cluster metadata, so every user is added when the
#   storage is formatted (`kafka-storage.sh format --add-scram`); a formatted volume
#   keeps the users it was formatted with.
# - the controller listener cannot check SCRAM (the controller serves those
#   credentials), so it uses PLAIN with the broker's own user only.
#
#   PEERLOOP_BROKER_PASSWORD  password of the broker's principal peerloop-broker (super user)
#   PEERLOOP_SCRAM_USERS      "name=password ..." of every other principal
#                             (passwords of letters, digits and '-': they go into JAAS and
#                             --add-scram verbatim)
set -euo pipefail

: "${PEERLOOP_BROKER_PASSWORD:?set PEERLOOP_BROKER_PASSWORD}"
: "${PEERLOOP_SCRAM_USERS:?set PEERLOOP_SCRAM_USERS}"
config=/opt/kafka/config

# Listener-specific JAAS sections: <listener>.KafkaServer (KAFKA_OPTS points here).
cat > "${config}/peerloop_jaas.conf" <<JAAS
internal.KafkaServer {
  org.apache.kafka.common.security.scram.ScramLoginModule required
  username="peerloop-broker" password="${PEERLOOP_BROKER_PASSWORD}";
};
host.KafkaServer {
  org.apache.kafka.common.security.scram.ScramLoginModule required;
};
controller.KafkaServer {
  org.apache.kafka.common.security.plain.PlainLoginModule required
  username="peerloop-broker" password="${PEERLOOP_BROKER_PASSWORD}"
  user_peerloop-broker="${PEERLOOP_BROKER_PASSWORD}";
};
JAAS

# For the healthcheck and the ACL job's tools: the broker's principal over SCRAM.
cat > "${config}/peerloop-broker.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="peerloop-broker" password="${PEERLOOP_BROKER_PASSWORD}";
PROPS

# The image's own steps (its `run` script), with the format step in between.
. /etc/kafka/docker/bash-config
. /etc/kafka/docker/configureDefaults
/etc/kafka/docker/configure

scram=(--add-scram "SCRAM-SHA-512=[name=peerloop-broker,password=${PEERLOOP_BROKER_PASSWORD}]")
for user in ${PEERLOOP_SCRAM_USERS}; do
  scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%=*},password=${user#*=}]")
done
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "${CLUSTER_ID}" \
  --config "${config}/server.properties" "${scram[@]}"

# Formats nothing more (already formatted), then starts the broker.
exec /etc/kafka/docker/launch
