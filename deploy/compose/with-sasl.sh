#!/usr/bin/env bash
# Runs a command of the apache/kafka image's tools as one SCRAM principal: writes the
# client config KAFKA_CLIENT_PROPERTIES from KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD,
# then execs the command (the topic and ACL scripts read that file).
set -euo pipefail

: "${KAFKA_SASL_USERNAME:?set KAFKA_SASL_USERNAME}"
: "${KAFKA_SASL_PASSWORD:?set KAFKA_SASL_PASSWORD}"
export KAFKA_CLIENT_PROPERTIES="${KAFKA_CLIENT_PROPERTIES:-/tmp/peerloop-client.properties}"
umask 077
cat > "${KAFKA_CLIENT_PROPERTIES}" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_SASL_USERNAME}" password="${KAFKA_SASL_PASSWORD}";
PROPS
exec "$@"
