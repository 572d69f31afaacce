"""`PEERLOOP_AUTH__*` variables, nested in every service's settings, beside the existing ones."""

from __future__ import annotations

import pytest
from peerloop_runtime.auth import AuthSettings
from peerloop_runtime.auth.settings import DEFAULT_ALGORITHMS
from peerloop_runtime.settings import ServiceSettings
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict


class MatchingLike(ServiceSettings):
    """A service that sets its own model_config, as matching does."""

    model_config = SettingsConfigDict(
        env_prefix="PEERLOOP_", extra="ignore", env_nested_delimiter="__"
    )
    http_port: int = 8102


def test_auth_reads_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_AUTH__ISSUER", "http://127.0.0.1:8080/realms/peerloop")
    monkeypatch.setenv("PEERLOOP_AUTH__AUDIENCE", "peerloop-api")
    monkeypatch.setenv("PEERLOOP_AUTH__PERSON_CLAIM", "sub")
    monkeypatch.setenv("PEERLOOP_AUTH__GROUPS_CLAIM", "roles")
    monkeypatch.setenv("PEERLOOP_AUTH__ADMIN_GROUP", "/peerloop-admins")
    monkeypatch.setenv("PEERLOOP_AUTH__SCOPE_CLAIM", "scp")
    monkeypatch.setenv("PEERLOOP_AUTH__ALGORITHMS", "RS256, ES256")
    monkeypatch.setenv("PEERLOOP_AUTH__LEEWAY_SECONDS", "5")
    monkeypatch.setenv("PEERLOOP_AUTH__JWKS_CACHE_SECONDS", "60")
    monkeypatch.setenv("PEERLOOP_AUTH__JWKS_URI", "http://127.0.0.1:8080/certs")
    monkeypatch.setenv("PEERLOOP_AUTH__OPEN_DOCS", "false")
    for settings in (ServiceSettings(), MatchingLike()):
        auth = settings.auth
        assert auth is not None
        assert (auth.issuer, auth.audience, auth.person_claim, auth.groups_claim) == (
            "http://127.0.0.1:8080/realms/peerloop",
            "peerloop-api",
            "sub",
            "roles",
        )
        assert (auth.admin_group, auth.scope_claim, auth.algorithms) == (
            "/peerloop-admins",
            "scp",
            ("RS256", "ES256"),
        )
        assert (auth.leeway_seconds, auth.jwks_cache_seconds, auth.jwks_uri, auth.open_docs) == (
            5,
            60,
            "http://127.0.0.1:8080/certs",
            False,
        )


def test_algorithms_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_AUTH__ISSUER", "https://idp")
    monkeypatch.setenv("PEERLOOP_AUTH__AUDIENCE", "a")
    monkeypatch.setenv("PEERLOOP_AUTH__ALGORITHMS", '["PS256"]')
    assert ServiceSettings().auth is not None
    assert ServiceSettings().auth.algorithms == ("PS256",)  # type: ignore[union-attr]


def test_defaults() -> None:
    auth = AuthSettings(issuer="https://idp", audience="a")
    assert auth.person_claim == "preferred_username"
    assert (auth.groups_claim, auth.admin_group, auth.scope_claim) == (
        "groups",
        "peerloop-admins",
        "scope",
    )
    assert auth.algorithms == DEFAULT_ALGORITHMS
    assert not any(alg.startswith("HS") or alg == "none" for alg in auth.algorithms)
    assert (auth.leeway_seconds, auth.jwks_min_refresh_seconds, auth.jwks_uri, auth.open_docs) == (
        30,
        10,
        None,
        True,
    )


@pytest.mark.parametrize("missing", ["PEERLOOP_AUTH__ISSUER", "PEERLOOP_AUTH__AUDIENCE"])
def test_issuer_and_audience_are_required(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("PEERLOOP_AUTH__ISSUER", "https://idp")
    monkeypatch.setenv("PEERLOOP_AUTH__AUDIENCE", "a")
    monkeypatch.delenv(missing)
    with pytest.raises(ValidationError):
        ServiceSettings()


def test_refused_algorithms_fail_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_AUTH__ISSUER", "https://idp")
    monkeypatch.setenv("PEERLOOP_AUTH__AUDIENCE", "a")
    monkeypatch.setenv("PEERLOOP_AUTH__ALGORITHMS", "RS256,HS256")
    with pytest.raises(ValidationError, match="HS256"):
        ServiceSettings()


def test_existing_variables_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("PEERLOOP_KAFKA_SASL_PASSWORD", "secret")
    monkeypatch.setenv("PEERLOOP_MONGODB_MAX_POOL_SIZE", "1")
    monkeypatch.setenv("PEERLOOP_HTTP_PORT", "9000")
    monkeypatch.setenv("PEERLOOP_CONSUMER_GROUP", "g")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "broker:9092"
    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == "secret"
    assert (settings.mongodb_max_pool_size, settings.http_port, settings.consumer_group) == (
        1,
        9000,
        "g",
    )
    assert settings.auth is None  # nothing set: the service is not wired for tokens yet
