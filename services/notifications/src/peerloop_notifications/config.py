"""Settings of the notifications service (`PEERLOOP_*` environment variables)."""

from __future__ import annotations

from typing import Self

from peerloop_runtime.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator

# Accepted only in dev mode: a known value, meant to be refused everywhere else.
DEV_WEBHOOK_SECRET = "peerloop-dev-webhook-secret"  # noqa: S105 (refused outside dev mode)
MIN_WEBHOOK_SECRET_LENGTH = 32


class Settings(ServiceSettings):
    http_port: int = 8103
    database: str = "peerloop_notifications"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, description="the local mail catcher by default")
    smtp_sender: str = "Peerloop <notifications@peerloop.local>"
    smtp_start_tls: bool | None = Field(
        default=None, description="None: if the server offers it (never with credentials)"
    )
    smtp_use_tls: bool = Field(default=False, description="implicit TLS from the start (port 465)")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 10.0
    calendar_public_url: str = Field(
        default="",
        description="where people reach this service, for the feed URLs it hands out"
        " (e.g. https://peerloop.example.com/notifications); empty: the URL of the request",
    )

    webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_WEBHOOK_SECRET),
        description="HMAC-SHA256 key of Peerloop-Signature (docs/webhooks.md); outside dev "
        f"mode at least {MIN_WEBHOOK_SECRET_LENGTH} characters and not the built-in one",
    )
    webhook_previous_secret: SecretStr | None = Field(
        default=None,
        description="during a key change, the old key: deliveries carry a signature by each",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="one deadline for a whole webhook delivery"
    )

    delivery_concurrency: int = Field(default=4, ge=1, le=64)
    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_base_delay_seconds: float = Field(default=2.0, gt=0)
    delivery_max_delay_seconds: float = Field(default=600.0, gt=0)
    delivery_lease_seconds: float = Field(
        default=60.0, gt=0, description="how long a send may take before another worker retries it"
    )
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    stream_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="how often a live stream looks for items other replicas wrote",
    )
    stream_max_per_person: int = Field(
        default=3, ge=1, description="live inbox streams one person may hold open (429 beyond)"
    )
    stream_max_per_process: int = Field(
        default=1000, ge=1, description="live inbox streams one process serves (429 beyond)"
    )
    stream_idle_seconds: float = Field(
        default=300.0, gt=0, description="a stream that carried no item for this long is closed"
    )
    stream_retry_after_seconds: int = Field(
        default=10, ge=1, description="the Retry-After of a stream refused for the caps"
    )

    @model_validator(mode="after")
    def _secure_outside_dev(self) -> Self:
        if not self.dev_mode:
            for name, secret in (
                ("PEERLOOP_WEBHOOK_SECRET", self.webhook_secret),
                ("PEERLOOP_WEBHOOK_PREVIOUS_SECRET", self.webhook_previous_secret),
            ):
                if secret is None:
                    continue
                value = secret.get_secret_value()
                if value == DEV_WEBHOOK_SECRET or len(value) < MIN_WEBHOOK_SECRET_LENGTH:
                    raise ValueError(
                        f"{name} must be a secret of at least {MIN_WEBHOOK_SECRET_LENGTH} "
                        "characters, not the built-in development one (e.g. `openssl rand "
                        "-hex 32`); PEERLOOP_DEV_MODE=true accepts it for local development"
                    )
        credentials = self.smtp_username is not None or self.smtp_password is not None
        if credentials and not (self.smtp_use_tls or self.smtp_start_tls is True):
            raise ValueError(
                "SMTP credentials go only over TLS: set PEERLOOP_SMTP_START_TLS=true "
                "(STARTTLS, port 587) or PEERLOOP_SMTP_USE_TLS=true (implicit TLS, port 465)"
            )
        if self.smtp_use_tls and self.smtp_start_tls:
            raise ValueError("PEERLOOP_SMTP_USE_TLS and PEERLOOP_SMTP_START_TLS exclude each other")
        return self
