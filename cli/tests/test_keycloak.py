"""The local Keycloak as a managed component: found again by its command line."""

from __future__ import annotations

import os

import pytest
from peerloop_cli.identity import IdentityProvider
from peerloop_cli.infra import keycloak

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        bool(os.environ.get("PEERLOOP_OIDC_ISSUER", "").strip())
        and os.environ.get("PEERLOOP_OIDC_ISSUER", "").rstrip("/")
        != keycloak.KeycloakSettings.from_env().issuer,
        reason="PEERLOOP_OIDC_ISSUER names another provider than the local Keycloak",
    ),
]


def test_a_running_server_without_pid_file_is_adopted(identity: IdentityProvider) -> None:
    settings = keycloak.KeycloakSettings.from_env()
    assert identity.issuer == settings.issuer
    state = keycloak.status(settings)
    assert state["state"] == "running", keycloak.log_tail()
    pid = state["pid"]
    assert pid is not None
    pid_file = settings.dir / "pid"
    pid_file.unlink()
    assert keycloak.status(settings)["pid"] == pid  # found by its command line
    assert pid_file.read_text().strip() == str(pid)
    # Nothing of the shared distribution is written by a running server.
    assert not (keycloak.dist_dir() / "data").exists()
    assert (settings.data_dir / "h2").is_dir()
