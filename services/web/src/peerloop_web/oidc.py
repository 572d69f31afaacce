"""Sign-in with the organisation's OpenID Connect provider: authorization code + PKCE (S256).

Authlib's Starlette client does the redirect, state, nonce, PKCE verifier and ID token
checks; this module adds refreshing the access token and ending the provider's session.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from peerloop_web.sessions import Login
from peerloop_web.settings import Settings

SCOPE = "openid profile email"


class Provider:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http
        self._discovery_url = f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration"
        self._metadata: dict[str, Any] | None = None
        oauth = OAuth()
        oauth.register(
            name="idp",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=self._discovery_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
        )
        client = oauth.create_client("idp")
        assert isinstance(client, StarletteOAuth2App)
        self.client = client

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, read once (Authlib reads its own copy)."""
        if self._metadata is None:
            answer = await self._http.get(self._discovery_url)
            answer.raise_for_status()
            self._metadata = dict(answer.json())
        return self._metadata

    @staticmethod
    def login_from(token: dict[str, Any]) -> Login:
        claims = token.get("userinfo") or {}
        person_id = str(claims["preferred_username"])
        return Login(
            person_id=person_id,
            display_name=str(claims.get("name") or person_id),
            email=str(claims.get("email") or ""),
            access_token=str(token["access_token"]),
            refresh_token=token.get("refresh_token"),
            id_token=token.get("id_token"),
            expires_at=float(token.get("expires_at") or time.time() + float(token["expires_in"])),
        )

    async def refresh(self, login: Login) -> bool:
        """A new access token from the refresh token; False when the provider says no (the
        person signs in again)."""
        if not login.refresh_token:
            return False
        try:
            answer = await self._http.post(
                (await self.metadata())["token_endpoint"],
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": login.refresh_token,
                    "client_id": self._settings.oidc_client_id,
                    "client_secret": self._settings.oidc_client_secret.get_secret_value(),
                },
            )
        except httpx.HTTPError:
            return False
        if answer.status_code != 200:
            return False
        token = answer.json()
        login.access_token = token["access_token"]
        login.refresh_token = token.get("refresh_token", login.refresh_token)
        login.id_token = token.get("id_token", login.id_token)
        login.expires_at = time.time() + float(token.get("expires_in", 60))
        return True

    async def logout_url(self, login: Login | None, after: str) -> str:
        """Where to send the browser so the provider's session ends too; `after` if it has
        no end-session endpoint."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except httpx.HTTPError:
            endpoint = None
        if not endpoint:
            return after
        query = {"post_logout_redirect_uri": after, "client_id": self._settings.oidc_client_id}
        if login and login.id_token:
            query["id_token_hint"] = login.id_token
        return f"{endpoint}?{urlencode(query)}"
