"""Settings of the profiles service (`PEERLOOP_*` environment variables)."""

from __future__ import annotations

from peerloop_runtime.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    http_port: int = 8101
    database: str = "peerloop_profiles"
    evidence_half_life_days: float = Field(
        default=365,
        gt=0,
        description="the age at which an evidence item (a session taught, a rating, an "
        "endorsement) counts half; see the README",
    )
