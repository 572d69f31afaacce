"""Settings every service shares, read from `PEERLOOP_*` environment variables.

Nested settings use `__`: `PEERLOOP_AUTH__ISSUER` sets `auth.issuer`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from peerloop_runtime.auth.settings import AuthSettings
from peerloop_runtime.body_limit import DEFAULT_MAX_BODY_BYTES
from peerloop_runtime.kafka_security import SaslMechanism, SecurityProtocol
from peerloop_runtime.outbound import OutboundSettings
from peerloop_runtime.rate_limit import RateLimitSettings


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PEERLOOP_", extra="ignore", env_nested_delimiter="__"
    )

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle; system CAs if unset")
    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    mongodb_max_pool_size: int = Field(
        default=100,
        ge=1,
        description="store connections per process; every supported store (MongoDB, "
        "the local mongo-java-server) keeps single-document updates atomic across them",
    )
    mongodb_slow_command_ms: float = Field(
        default=500, ge=0, description="log store commands slower than this (0: off)"
    )
    http_host: str = "127.0.0.1"
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="request bodies larger than this are refused with 413",
    )
    http_port: int = 8000
    database: str = Field(default="peerloop", description="this service's own database")
    consumer_group: str = Field(default="", description="defaults to peerloop-<service>")
    shutdown_grace_seconds: float = 20.0
    handler_deadline_seconds: float = Field(
        default=60.0,
        gt=0,
        description="an event handler still running after this is cancelled and its "
        "event redelivered, so no partition waits on a hung call",
    )
    log_level: str = "INFO"
    dev_mode: bool = Field(
        default=False,
        description="local development and tests (`peerloop up` sets it): built-in "
        "development secrets are accepted; a deployment leaves it false",
    )
    outbound: OutboundSettings = Field(
        default_factory=OutboundSettings,
        description="where calls to user-given URLs may go (PEERLOOP_OUTBOUND__*); "
        "public https addresses only by default",
    )
    auth: AuthSettings | None = Field(
        default=None,
        description="bearer-token validation (PEERLOOP_AUTH__ISSUER, …__AUDIENCE, …); "
        "`ServiceRuntime.secure(app)` refuses to start a service without it",
    )
    rate_limit: RateLimitSettings = Field(
        default_factory=RateLimitSettings,
        description="limits per person on creating calls (PEERLOOP_RATE_LIMIT__HELP_REQUESTS="
        "20/minute, …); see runtime.rate_limit",
    )
