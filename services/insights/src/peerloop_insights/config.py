"""Settings of the insights service (`PEERLOOP_*` environment variables)."""

from __future__ import annotations

from peerloop_runtime.settings import ServiceSettings
from pydantic import Field

from peerloop_insights.domain.privacy import DEFAULT_K


class Settings(ServiceSettings):
    http_port: int = 8105
    database: str = "peerloop_insights"
    min_people: int = Field(
        default=DEFAULT_K,
        ge=2,
        le=1000,
        description="k: a figure describing fewer people than this is suppressed",
    )
    refresh_seconds: float = Field(
        default=2.0, gt=0, description="how stale the figures may be before the log is reread"
    )
    batch_records: int = Field(
        default=1000, ge=1, le=10_000, description="most records applied (and committed) at once"
    )
