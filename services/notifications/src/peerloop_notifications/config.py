"""Settings of the notifications service (`PEERLOOP_*` environment variables)."""

from __future__ import annotations

from peerloop_contracts.runtime.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    http_port: int = 8103
    database: str = "peerloop_notifications"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, description="the local mail catcher by default")
    smtp_sender: str = "Peerloop <notifications@peerloop.local>"
    smtp_start_tls: bool | None = Field(default=None, description="None: if the server offers it")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 10.0

    webhook_secret: str = Field(
        default="peerloop-dev-webhook-secret",
        description="HMAC-SHA256 key for X-Peerloop-Signature; set a real one outside dev",
    )
    webhook_timeout_seconds: float = 10.0

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
