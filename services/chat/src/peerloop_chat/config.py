"""Settings of the chat service (`PEERLOOP_*` environment variables)."""

from __future__ import annotations

from typing import Self

from peerloop_runtime.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator

# Accepted only in dev mode: known values, meant to be refused everywhere else.
DEV_SIGNING_SECRET = "peerloop-dev-slack-signing-secret"  # noqa: S105 (refused outside dev mode)
DEV_CLIENT_SECRET = "peerloop-chat-demo-secret"  # noqa: S105 (the demo realm's; refused outside dev mode)
MIN_SIGNING_SECRET_LENGTH = 32
"""Slack's signing secrets are 32 hexadecimal characters."""
DELEGATION_SCOPE = "peerloop:act-for-person"


class Settings(ServiceSettings):
    http_port: int = 8104
    database: str = "peerloop_chat"

    slack_signing_secret: SecretStr = Field(
        default=SecretStr(DEV_SIGNING_SECRET),
        description="the Slack app's signing secret (Basic Information → App Credentials); "
        f"outside dev mode at least {MIN_SIGNING_SECRET_LENGTH} characters, not the built-in one",
    )
    slack_bot_token: SecretStr = Field(
        default=SecretStr("xoxb-peerloop-dev"), description="the app's bot token (xoxb-…)"
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Slack's Web API; tests point it at a local server that plays Slack",
    )
    slack_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    matching_url: str = "http://127.0.0.1:8102"
    profiles_url: str = "http://127.0.0.1:8101"
    client_id: str = Field(
        default="peerloop-chat", description="the chat app's service account at the provider"
    )
    client_secret: SecretStr = SecretStr(DEV_CLIENT_SECRET)
    token_url: str = Field(
        default="",
        description="the provider's token endpoint; default: Keycloak's under "
        "PEERLOOP_AUTH__ISSUER (<issuer>/protocol/openid-connect/token)",
    )
    service_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    link_code_minutes: int = Field(default=10, ge=1, le=60)

    @property
    def token_endpoint(self) -> str:
        if self.token_url:
            return self.token_url
        if self.auth is None:
            raise ValueError("set PEERLOOP_TOKEN_URL or PEERLOOP_AUTH__ISSUER")
        return self.auth.issuer.rstrip("/") + "/protocol/openid-connect/token"

    @model_validator(mode="after")
    def _secure_outside_dev(self) -> Self:
        if self.dev_mode:
            return self
        signing = self.slack_signing_secret.get_secret_value()
        if signing == DEV_SIGNING_SECRET or len(signing) < MIN_SIGNING_SECRET_LENGTH:
            raise ValueError(
                "PEERLOOP_SLACK_SIGNING_SECRET must be the Slack app's signing secret (at least "
                f"{MIN_SIGNING_SECRET_LENGTH} characters), not the built-in development one; "
                "PEERLOOP_DEV_MODE=true accepts it for local development"
            )
        if self.client_secret.get_secret_value() == DEV_CLIENT_SECRET:
            raise ValueError(
                "PEERLOOP_CLIENT_SECRET must be the chat service account's own secret, not "
                "the demo realm's; PEERLOOP_DEV_MODE=true accepts it for local development"
            )
        return self
