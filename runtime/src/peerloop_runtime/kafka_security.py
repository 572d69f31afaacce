"""Kafka client security from settings: TLS and SASL (PLAIN, SCRAM) for managed clusters."""

from __future__ import annotations

import ssl
from typing import Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


class KafkaSecurityError(ValueError):
    pass


def kafka_security(
    protocol: SecurityProtocol,
    *,
    mechanism: SaslMechanism = "PLAIN",
    username: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
) -> BaseSecurity | None:
    """The FastStream security object for a `security.protocol`; None for PLAINTEXT."""
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=ca_file) if protocol.endswith("SSL") else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    if not username or password is None:
        raise KafkaSecurityError(
            f"{protocol} needs PEERLOOP_KAFKA_SASL_USERNAME and PEERLOOP_KAFKA_SASL_PASSWORD"
        )
    return _SASL[mechanism](username, password, ssl_context=context, use_ssl=context is not None)
