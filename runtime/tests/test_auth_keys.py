"""Signing keys: cached, re-fetched on a new kid at a bounded rate, and kept through outages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from peerloop_runtime.auth import (
    IdentityProviderUnavailable,
    KeySourceUnavailable,
    OidcKeySource,
    TokenVerifier,
    Unauthenticated,
)
from peerloop_runtime.auth.testing import FakeKeySource, LocalIssuer, generate_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()


def _verifier(issuer: LocalIssuer, clock: Clock, **settings: Any) -> TokenVerifier:
    return TokenVerifier(issuer.settings(**settings), issuer.key_source, monotonic=clock)


async def test_keys_are_fetched_once_and_cached(issuer: LocalIssuer, clock: Clock) -> None:
    verifier = _verifier(issuer, clock)
    for _ in range(5):
        await verifier.verify(issuer.person_token("ada"))
    assert issuer.key_source.fetches == 1


async def test_stale_keys_are_fetched_again(issuer: LocalIssuer, clock: Clock) -> None:
    verifier = _verifier(issuer, clock, jwks_cache_seconds=60)
    await verifier.verify(issuer.person_token("ada"))
    clock.now += 61
    await verifier.verify(issuer.person_token("ada"))
    assert issuer.key_source.fetches == 2


async def test_a_new_kid_triggers_a_fetch_and_is_then_accepted(
    issuer: LocalIssuer, clock: Clock
) -> None:
    verifier = _verifier(issuer, clock)
    await verifier.verify(issuer.person_token("ada"))
    clock.now += 11
    issuer.rotate()
    assert (await verifier.verify(issuer.person_token("ada"))).person_id == "ada"
    assert issuer.key_source.fetches == 2


async def test_junk_kids_fetch_at_most_once_per_interval(issuer: LocalIssuer, clock: Clock) -> None:
    verifier = _verifier(issuer, clock)
    await verifier.verify(issuer.person_token("ada"))
    clock.now += 11
    for n in range(50):
        junk = generate_key("RS256")
        with pytest.raises(Unauthenticated, match="signing key is unknown"):
            await verifier.verify(issuer.token(key=junk))
        clock.now += 0.1 if n < 49 else 0
    assert issuer.key_source.fetches == 2  # the first junk kid fetched; 5 s later, none did
    clock.now += 10
    with pytest.raises(Unauthenticated):
        await verifier.verify(issuer.token(key=generate_key("RS256")))
    assert issuer.key_source.fetches == 3


async def test_a_rotation_inside_the_interval_waits_for_it(
    issuer: LocalIssuer, clock: Clock
) -> None:
    verifier = _verifier(issuer, clock)
    await verifier.verify(issuer.person_token("ada"))
    issuer.rotate()
    with pytest.raises(Unauthenticated):
        await verifier.verify(issuer.person_token("ada"))
    clock.now += 10
    assert await verifier.verify(issuer.person_token("ada"))


async def test_concurrent_fetches_are_shared(issuer: LocalIssuer, clock: Clock) -> None:
    gate = asyncio.Event()

    class SlowSource(FakeKeySource):
        async def fetch_jwks(self) -> dict[str, Any]:
            await gate.wait()
            return await super().fetch_jwks()

    source = SlowSource([issuer.key])
    verifier = TokenVerifier(issuer.settings(jwks_min_refresh_seconds=0), source, monotonic=clock)
    pending = [asyncio.create_task(verifier.verify(issuer.person_token("ada"))) for _ in range(20)]
    await asyncio.sleep(0.01)
    gate.set()
    assert all(p.person_id == "ada" for p in await asyncio.gather(*pending))
    assert source.fetches == 1


async def test_an_outage_with_a_held_key_keeps_verifying(issuer: LocalIssuer, clock: Clock) -> None:
    verifier = _verifier(issuer, clock, jwks_cache_seconds=60)
    await verifier.verify(issuer.person_token("ada"))
    issuer.key_source.down = True
    clock.now += 3600
    for _ in range(3):
        assert (await verifier.verify(issuer.person_token("ada"))).person_id == "ada"
        clock.now += 11
    issuer.key_source.down = False
    clock.now += 11
    await verifier.verify(issuer.person_token("ada"))
    assert issuer.key_source.fetches == 5


async def test_an_outage_without_a_key_is_unavailable_not_unauthenticated(
    issuer: LocalIssuer, clock: Clock
) -> None:
    issuer.key_source.down = True
    verifier = _verifier(issuer, clock)
    with pytest.raises(IdentityProviderUnavailable) as first:
        await verifier.verify(issuer.person_token("ada"))
    assert first.value.retry_after_seconds == 10
    clock.now += 4
    with pytest.raises(IdentityProviderUnavailable) as second:
        await verifier.verify(issuer.person_token("ada"))
    assert second.value.retry_after_seconds == 6
    assert issuer.key_source.fetches == 1  # the outage is not hammered either
    issuer.key_source.down = False
    clock.now += 6
    assert await verifier.verify(issuer.person_token("ada"))


async def test_a_new_kid_during_an_outage_is_unavailable(issuer: LocalIssuer, clock: Clock) -> None:
    verifier = _verifier(issuer, clock)
    await verifier.verify(issuer.person_token("ada"))
    issuer.key_source.down = True
    issuer.rotate()
    clock.now += 11
    with pytest.raises(IdentityProviderUnavailable):
        await verifier.verify(issuer.person_token("ada"))


async def test_refused_algorithms_cost_no_fetch(issuer: LocalIssuer, clock: Clock) -> None:
    verifier = _verifier(issuer, clock)
    with pytest.raises(Unauthenticated):
        await verifier.verify("eyJhbGciOiJub25lIn0.e30.")
    assert issuer.key_source.fetches == 0


async def test_a_broken_key_set_counts_as_an_outage(issuer: LocalIssuer, clock: Clock) -> None:
    class Broken(FakeKeySource):
        async def fetch_jwks(self) -> dict[str, Any]:
            self.fetches += 1
            return {"keys": [{"kty": "RSA", "n": "??"}]}

    verifier = TokenVerifier(issuer.settings(), Broken([]), monotonic=clock)
    with pytest.raises(IdentityProviderUnavailable):
        await verifier.verify(issuer.person_token("ada"))


# The HTTP adapter, against a fake provider.


def _provider(
    issuer: LocalIssuer, *, named_issuer: str | None = None
) -> tuple[httpx.MockTransport, list[str]]:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": named_issuer or issuer.issuer,
                    "jwks_uri": "https://idp.peerloop.test/certs",
                },
            )
        if request.url.path == "/certs":
            return httpx.Response(
                200,
                content=json.dumps(
                    issuer.key_source.keys
                    and {"keys": [k.as_dict(private=False) for k in issuer.key_source.keys]}
                ),
            )
        return httpx.Response(404)

    return httpx.MockTransport(answer), asked


async def test_discovery_then_keys(issuer: LocalIssuer, clock: Clock) -> None:
    transport, asked = _provider(issuer)
    settings = issuer.settings()
    source = OidcKeySource(
        settings.issuer, discovery_url=settings.discovery_url, transport=transport
    )
    async with TokenVerifier(settings, source, monotonic=clock) as verifier:
        assert (await verifier.verify(issuer.person_token("ada"))).person_id == "ada"
        clock.now += 11
        issuer.rotate()
        assert await verifier.verify(issuer.person_token("ada"))
    assert asked == [
        "https://idp.peerloop.test/realms/peerloop/.well-known/openid-configuration",
        "https://idp.peerloop.test/certs",
        "https://idp.peerloop.test/certs",
    ]


async def test_a_discovery_document_of_another_issuer_is_not_used(issuer: LocalIssuer) -> None:
    transport, _ = _provider(issuer, named_issuer="https://evil.example")
    settings = issuer.settings()
    source = OidcKeySource(
        settings.issuer, discovery_url=settings.discovery_url, transport=transport
    )
    with pytest.raises(KeySourceUnavailable, match="evil"):
        await source.fetch_jwks()
    await source.close()


async def test_a_configured_jwks_uri_skips_discovery(issuer: LocalIssuer) -> None:
    transport, asked = _provider(issuer)
    source = OidcKeySource(
        issuer.issuer,
        discovery_url="unused",
        jwks_uri="https://idp.peerloop.test/certs",
        transport=transport,
    )
    assert (await source.fetch_jwks())["keys"]
    assert asked == ["https://idp.peerloop.test/certs"]
    await source.close()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.MockTransport(lambda r: httpx.Response(503)),
        httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>")),
        httpx.MockTransport(lambda r: httpx.Response(200, json={"jwks_uri": "x"})),
    ],
    ids=["503", "not JSON", "no issuer"],
)
async def test_provider_failures_are_unavailable(
    issuer: LocalIssuer, failure: httpx.MockTransport
) -> None:
    source = OidcKeySource(
        issuer.issuer, discovery_url=issuer.settings().discovery_url, transport=failure
    )
    with pytest.raises(KeySourceUnavailable):
        await source.fetch_jwks()
    await source.close()


async def test_an_unreachable_provider_is_unavailable(issuer: LocalIssuer) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    source = OidcKeySource(
        issuer.issuer,
        discovery_url=issuer.settings().discovery_url,
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(KeySourceUnavailable, match="ConnectError"):
        await source.fetch_jwks()
    await source.close()


def test_discovery_url_drops_a_trailing_slash() -> None:
    from peerloop_runtime.auth import AuthSettings

    assert (
        AuthSettings(issuer="https://tenant.example/", audience="a").discovery_url
        == "https://tenant.example/.well-known/openid-configuration"
    )


async def test_while_a_refresh_is_slow_held_keys_answer_the_others(
    issuer: LocalIssuer, clock: Clock
) -> None:
    gate = asyncio.Event()

    class SlowSecondFetch(FakeKeySource):
        async def fetch_jwks(self) -> dict[str, Any]:
            if self.fetches >= 1:
                await gate.wait()
            return await super().fetch_jwks()

    source = SlowSecondFetch([issuer.key])
    verifier = TokenVerifier(issuer.settings(jwks_cache_seconds=60), source, monotonic=clock)
    await verifier.verify(issuer.person_token("ada"))
    clock.now += 61
    refreshing = asyncio.create_task(verifier.verify(issuer.person_token("ada")))
    await asyncio.sleep(0.01)
    others = await asyncio.wait_for(
        asyncio.gather(*(verifier.verify(issuer.person_token("ada")) for _ in range(5))), 1
    )
    assert all(p.person_id == "ada" for p in others)
    assert not refreshing.done()
    gate.set()
    assert (await refreshing).person_id == "ada"
    assert source.fetches == 2
