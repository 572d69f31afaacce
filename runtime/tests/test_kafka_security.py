import pytest
from faststream.security import SASLPlaintext, SASLScram512
from peerloop_runtime.kafka_security import KafkaSecurityError, kafka_security


def test_plaintext_needs_no_security():
    assert kafka_security("PLAINTEXT") is None


def test_ssl_uses_tls():
    security = kafka_security("SSL")
    assert security is not None and security.use_ssl and security.ssl_context is not None


@pytest.mark.parametrize(
    ("protocol", "mechanism", "kind", "tls"),
    [
        ("SASL_SSL", "SCRAM-SHA-512", SASLScram512, True),
        ("SASL_PLAINTEXT", "PLAIN", SASLPlaintext, False),
    ],
)
def test_sasl(protocol, mechanism, kind, tls):
    security = kafka_security(protocol, mechanism=mechanism, username="svc", password="pw")
    assert isinstance(security, kind)
    assert security.use_ssl is tls


def test_sasl_without_credentials_says_what_is_missing():
    with pytest.raises(KafkaSecurityError, match="PEERLOOP_KAFKA_SASL_USERNAME"):
        kafka_security("SASL_SSL")
