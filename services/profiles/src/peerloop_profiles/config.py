"""Settings of the profiles service (`PEERLOOP_*` environment variables)."""

from __future__ import annotations

from peerloop_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8101
    database: str = "peerloop_profiles"
