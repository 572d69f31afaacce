"""Where signing keys come from: a port, and its adapter over OIDC discovery and HTTP."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

log = logging.getLogger("peerloop.auth")

JwksDocument = dict[str, Any]
"""A JWK Set as JSON: `{"keys": [...]}` (RFC 7517 §5)."""


class KeySourceUnavailable(Exception):  # noqa: N818 - a state of the provider, as the 503
    """The keys could not be fetched now; a later attempt may succeed."""


class KeySource(Protocol):
    """Fetches the issuer's current JWK Set. Caching is the caller's business."""

    async def fetch_jwks(self) -> JwksDocument:
        """The current key set; raises `KeySourceUnavailable` when it cannot be had."""
        ...

    async def close(self) -> None: ...


class OidcKeySource:
    """The issuer's keys at its discovery document's `jwks_uri` (or a configured one).

    The HTTP client is created on first use and closed by `close()`, which the
    service's lifespan calls (`ServiceRuntime.stop`).
    """

    def __init__(
        self,
        issuer: str,
        *,
        discovery_url: str,
        jwks_uri: str | None = None,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._issuer = issuer
        self._discovery_url = discovery_url
        self._jwks_uri = jwks_uri
        self._timeout = timeout_seconds
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                transport=self._transport,
                headers={"Accept": "application/json"},
                follow_redirects=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch_jwks(self) -> JwksDocument:
        try:
            if self._jwks_uri is None:
                self._jwks_uri = await self._discover()
            return _key_set(await self._get_json(self._jwks_uri))
        except (httpx.HTTPError, ValueError) as exc:
            raise KeySourceUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def _discover(self) -> str:
        document = await self._get_json(self._discovery_url)
        # OIDC Discovery §4.3: a document naming another issuer must not be used.
        if document.get("issuer") != self._issuer:
            raise ValueError(
                f"{self._discovery_url} names issuer {document.get('issuer')!r}, "
                f"not {self._issuer!r}"
            )
        uri = document.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise ValueError(f"{self._discovery_url} has no jwks_uri")
        log.info("signing keys of %s at %s", self._issuer, uri)
        return uri

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self._http().get(url)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return document


def _key_set(document: dict[str, Any]) -> JwksDocument:
    if not isinstance(document.get("keys"), list):
        raise ValueError("the JWK Set has no `keys` list")
    return document
