"""Where the services and the identity provider are, and how the browser session is kept."""

from __future__ import annotations

import secrets

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEERLOOP_WEB_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8100
    public_url: str = Field(
        default="",
        description="how browsers reach this app (the OIDC redirect is built from it); "
        "defaults to http://<http_host>:<http_port>",
    )
    profiles_url: str = "http://127.0.0.1:8101"
    matching_url: str = "http://127.0.0.1:8102"
    notifications_url: str = "http://127.0.0.1:8103"
    insights_url: str = "http://127.0.0.1:8105"
    oidc_issuer: str = "http://127.0.0.1:8180/realms/peerloop"
    oidc_client_id: str = "peerloop-web"
    oidc_client_secret: SecretStr = SecretStr("peerloop-web-demo-secret")
    session_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="signs the session cookie; set it when more than one replica runs",
    )
    cookie_secure: bool = Field(
        default=True,
        description="browsers keep Secure cookies on http://127.0.0.1 too, so this stays on "
        "for local runs",
    )
    session_idle_seconds: int = 8 * 3600
    service_timeout_seconds: float = 10.0
    log_level: str = "INFO"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")
