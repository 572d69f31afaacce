"""Which tokens `TokenVerifier` accepts, which it refuses, and what each says about the caller."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import RSAKey
from peerloop_runtime.auth import AuthSettings, TokenVerifier, Unauthenticated
from peerloop_runtime.auth.testing import LocalIssuer, generate_key

NOW = 1_900_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer(clock=lambda: NOW)


def _verifier(issuer: LocalIssuer, **settings: Any) -> TokenVerifier:
    return TokenVerifier(issuer.settings(**settings), issuer.key_source, clock=lambda: NOW)


def _signed_raw(i: LocalIssuer, header: dict[str, Any]) -> str:
    """Signed with the issuer's real key, bypassing joserfc's checks on the signing side."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(i.claims(preferred_username="ada")).encode())
    signature = i.key.private_key.sign(
        f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )  # type: ignore[union-attr, call-arg]
    return f"{head}.{body}.{_b64(signature)}"


async def test_the_raw_signer_makes_valid_tokens(issuer: LocalIssuer) -> None:
    token = _signed_raw(issuer, {"alg": "RS256", "kid": issuer.key.kid})
    assert (await _verifier(issuer).verify(token)).person_id == "ada"


def _alg_none(i: LocalIssuer) -> str:
    return _unsigned({"alg": "none", "typ": "JWT"}, i.claims())


def _hs256_with_the_public_key(i: LocalIssuer) -> str:
    # The classic confusion: the published RSA key used as an HMAC secret.
    secret = i.key.as_pem(private=False)
    header = {"alg": "HS256", "kid": i.key.kid, "typ": "JWT"}
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(i.claims()).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def _header_alg_disagrees_with_jwk(i: LocalIssuer) -> str:
    # The same RSA key, signing PS256 while its JWK says RS256.
    bare = RSAKey.import_key({k: v for k, v in i.key.as_dict(private=True).items() if k != "alg"})
    return jws.serialize_compact(
        {"alg": "PS256", "kid": i.key.kid}, json.dumps(i.claims()), bare, algorithms=["PS256"]
    )


def _key_type_disagrees_with_alg(i: LocalIssuer) -> str:
    # An EC signature claiming the kid of the published RSA key.
    ec = generate_key("ES256")
    return i.token(header={"kid": i.key.kid}, key=ec)


def _signed_by_an_unpublished_key(i: LocalIssuer) -> str:
    impostor = generate_key("RS256")
    return i.token(header={"kid": i.key.kid}, key=impostor)


def _tampered(i: LocalIssuer) -> str:
    head, _body, sig = i.person_token("ada").split(".")
    forged = _b64(
        json.dumps(i.claims(preferred_username="admin", groups=["peerloop-admins"])).encode()
    )
    return f"{head}.{forged}.{sig}"


REJECTED: list[tuple[str, Callable[[LocalIssuer], str], str]] = [
    ("not a JWT", lambda i: "not-a-token", "not a signed JWT"),
    ("three junk parts", lambda i: "a.b.c", "not a signed JWT"),
    ("empty", lambda i: "", "not a signed JWT"),
    ("non-ASCII", lambda i: "é.é.é", "not a signed JWT"),
    ("four parts", lambda i: "a.b.c.d", "not a signed JWT"),
    ("header not an object", lambda i: _unsigned([1], {}), "not a signed JWT"),  # type: ignore[arg-type]
    ("header without alg", lambda i: _unsigned({"kid": i.key.kid}, i.claims()), "not a signed JWT"),
    (
        "header too large",
        lambda i: _unsigned({"alg": "RS256", "x": "a" * 1000}, i.claims()),
        "not a signed JWT",
    ),
    ("alg a list", lambda i: _unsigned({"alg": ["RS256"]}, i.claims()), "is not accepted"),
    ("alg an object", lambda i: _unsigned({"alg": {"RS256": 1}}, i.claims()), "is not accepted"),
    (
        "kid an object",
        lambda i: _unsigned({"alg": "RS256", "kid": {"a": 1}}, i.claims()),
        "kid is not a string",
    ),
    (
        "an unknown crit header",
        lambda i: _signed_raw(
            i, {"alg": "RS256", "kid": i.key.kid, "crit": ["x-must"], "x-must": 1}
        ),
        "signature does not verify",
    ),
    ("alg none", _alg_none, "algorithm 'none' is not accepted"),
    ("HS256 with the public key", _hs256_with_the_public_key, "algorithm 'HS256'"),
    (
        "alg outside the allow-list",
        lambda i: i.token(key=(k := generate_key("PS512")), header={"kid": k.kid}),
        "algorithm 'PS512'",
    ),
    (
        "header alg disagrees with the JWK's",
        _header_alg_disagrees_with_jwk,
        "signature does not verify",
    ),
    ("key type disagrees with alg", _key_type_disagrees_with_alg, "signature does not verify"),
    ("signed by an unpublished key", _signed_by_an_unpublished_key, "signature does not verify"),
    ("payload changed after signing", _tampered, "signature does not verify"),
    (
        "claims not an object",
        lambda i: jws.serialize_compact({"alg": "RS256", "kid": i.key.kid}, b"[1]", i.key),
        "not a JSON object",
    ),
    (
        "another issuer",
        lambda i: i.person_token("ada", iss="https://evil.example/realms/peerloop"),
        "another issuer",
    ),
    (
        "issuer with a trailing slash",
        lambda i: i.person_token("ada", iss=i.issuer + "/"),
        "another issuer",
    ),
    ("no issuer", lambda i: i.person_token("ada", iss=None), "lacks iss"),
    ("another audience", lambda i: i.person_token("ada", aud="account"), "another audience"),
    (
        "audiences without ours",
        lambda i: i.person_token("ada", aud=["account", "broker"]),
        "another audience",
    ),
    ("no audience", lambda i: i.person_token("ada", aud=None), "lacks aud"),
    ("no expiry", lambda i: i.person_token("ada", exp=None), "lacks exp"),
    ("expiry not a number", lambda i: i.person_token("ada", exp="soon"), "expiry is not a time"),
    ("expired beyond the leeway", lambda i: i.person_token("ada", exp=NOW - 31), "expired"),
    ("expired exactly at the leeway", lambda i: i.person_token("ada", exp=NOW - 30), "expired"),
    (
        "not valid yet beyond the leeway",
        lambda i: i.person_token("ada", nbf=NOW + 31),
        "not valid yet",
    ),
    (
        "issued in the future beyond the leeway",
        lambda i: i.person_token("ada", iat=NOW + 31),
        "issued in the future",
    ),
    ("no subject", lambda i: i.person_token("ada", sub=None), "lacks sub"),
    (
        "unknown kid",
        lambda i: i.token(key=(k := generate_key("RS256")), header={"kid": k.kid}),
        "signing key is unknown",
    ),
]


@pytest.mark.parametrize(("case", "make", "reason"), REJECTED, ids=[c[0] for c in REJECTED])
async def test_refused(
    issuer: LocalIssuer, case: str, make: Callable[[LocalIssuer], str], reason: str
) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await _verifier(issuer).verify(make(issuer))
    assert reason in refused.value.description
    assert 'error="invalid_token"' in refused.value.challenge


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("plain", {}),
    ("expires just inside the leeway", {"exp": NOW - 29}),
    ("valid from the edge of the leeway", {"nbf": NOW + 30}),
    ("issued at the edge of the leeway", {"iat": NOW + 30}),
    ("one of several audiences", {"aud": ["account", "peerloop-api"]}),
    ("no iat, no nbf", {"iat": None}),
    ("unknown header parameter", {}),
]


@pytest.mark.parametrize(("case", "claims"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
async def test_accepted(issuer: LocalIssuer, case: str, claims: dict[str, Any]) -> None:
    token = issuer.token(preferred_username="ada", header={"x-vendor": 1}, **claims)
    principal = await _verifier(issuer).verify(token)
    assert principal.person_id == "ada"


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize(
    "alg", ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA", "Ed25519"]
)
async def test_every_default_algorithm_verifies(alg: str) -> None:
    issuer = LocalIssuer(alg=alg, clock=lambda: NOW)
    assert (await _verifier(issuer).verify(issuer.person_token("ada"))).person_id == "ada"


async def test_a_narrower_allow_list_refuses_what_it_leaves_out() -> None:
    issuer = LocalIssuer(alg="ES256", clock=lambda: NOW)
    with pytest.raises(Unauthenticated, match="algorithm 'ES256'"):
        await _verifier(issuer, algorithms=("RS256",)).verify(issuer.person_token("ada"))


async def test_leeway_is_configurable(issuer: LocalIssuer) -> None:
    token = issuer.person_token("ada", exp=NOW - 5)
    with pytest.raises(Unauthenticated, match="expired"):
        await _verifier(issuer, leeway_seconds=0).verify(token)
    assert await _verifier(issuer, leeway_seconds=10).verify(token)


async def test_a_token_without_kid_uses_the_only_key(issuer: LocalIssuer) -> None:
    token = jws.serialize_compact(
        {"alg": "RS256"}, json.dumps(issuer.claims(preferred_username="ada")), issuer.key
    )
    assert (await _verifier(issuer).verify(token)).person_id == "ada"


PRINCIPALS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # (case, settings, claims, expected attributes)
    (
        "a person",
        {},
        {"preferred_username": "ada", "sub": "u-1", "azp": "peerloop-web"},
        {
            "subject": "u-1",
            "person_id": "ada",
            "is_service_account": False,
            "client_id": "peerloop-web",
        },
    ),
    (
        "scopes as a space-separated string",
        {},
        {"preferred_username": "ada", "scope": "openid  profiles:read"},
        {"scopes": frozenset({"openid", "profiles:read"})},
    ),
    (
        "scopes as a list",
        {"scope_claim": "scp"},
        {"preferred_username": "ada", "scp": ["openid", "profiles:read"]},
        {"scopes": frozenset({"openid", "profiles:read"})},
    ),
    ("no scopes", {}, {"preferred_username": "ada"}, {"scopes": frozenset()}),
    (
        "an admin",
        {},
        {"preferred_username": "ada", "groups": ["staff", "peerloop-admins"]},
        {"is_admin": True},
    ),
    (
        "a group path is not the group",
        {},
        {"preferred_username": "ada", "groups": ["/peerloop-admins"]},
        {"is_admin": False},
    ),
    (
        "the admin group is configurable",
        {"admin_group": "/peerloop-admins"},
        {"preferred_username": "ada", "groups": ["/peerloop-admins"]},
        {"is_admin": True},
    ),
    (
        "groups at a nested path",
        {"groups_claim": "realm_access.roles"},
        {"preferred_username": "ada", "realm_access": {"roles": ["peerloop-admins"]}},
        {"is_admin": True},
    ),
    (
        "a namespaced groups claim",
        {"groups_claim": "https://peerloop.example/groups"},
        {"preferred_username": "ada", "https://peerloop.example/groups": ["peerloop-admins"]},
        {"is_admin": True},
    ),
    ("no groups", {}, {"preferred_username": "ada"}, {"is_admin": False}),
    (
        "no person claim: a service account",
        {},
        {"azp": "matching"},
        {"person_id": None, "is_service_account": True, "client_id": "matching"},
    ),
    (
        "a username plus the service-account marker",
        {},
        {"preferred_username": "service-account-matching", "client_id": "matching", "azp": None},
        {"person_id": None, "is_service_account": True, "client_id": "matching"},
    ),
    (
        "a marker with a value",
        {"service_account_marker": "idtyp=app"},
        {"preferred_username": "ada", "idtyp": "app"},
        {"is_service_account": True},
    ),
    (
        "a marker value that differs",
        {"service_account_marker": "idtyp=app"},
        {"preferred_username": "ada", "idtyp": "user"},
        {"person_id": "ada"},
    ),
    (
        "no marker configured",
        {"service_account_marker": ""},
        {"preferred_username": "ada", "client_id": "web"},
        {"person_id": "ada"},
    ),
    (
        "the person claim is configurable",
        {"person_claim": "peerloop_person"},
        {"preferred_username": "x", "peerloop_person": "ada"},
        {"person_id": "ada"},
    ),
    ("an empty person claim", {}, {"preferred_username": ""}, {"person_id": None}),
    ("a person claim that is not a string", {}, {"preferred_username": 7}, {"person_id": None}),
]


@pytest.mark.parametrize(
    ("case", "settings", "claims", "expected"), PRINCIPALS, ids=[c[0] for c in PRINCIPALS]
)
async def test_principal(
    issuer: LocalIssuer,
    case: str,
    settings: dict[str, Any],
    claims: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    principal = await _verifier(issuer, **settings).verify(issuer.token(**claims))
    assert {name: getattr(principal, name) for name in expected} == expected


async def test_the_principal_is_frozen(issuer: LocalIssuer) -> None:
    principal = await _verifier(issuer).verify(issuer.person_token("ada"))
    with pytest.raises(AttributeError):
        principal.person_id = "root"  # type: ignore[misc]


def test_settings_refuse_symmetric_and_none_algorithms() -> None:
    for alg in ("HS256", "none", "RS1"):
        with pytest.raises(ValueError, match=alg):
            AuthSettings(issuer="https://idp", audience="a", algorithms=(alg,))


async def test_a_foreign_issuers_token_costs_no_key_fetch(issuer: LocalIssuer) -> None:
    """Its unknown kid would otherwise make every such token ask the provider for keys."""
    verifier = _verifier(issuer, jwks_min_refresh_seconds=0)
    await verifier.verify(issuer.person_token("ada"))
    fetched = issuer.key_source.fetches
    foreign = LocalIssuer(issuer="https://evil.example/realms/peerloop")
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="another issuer"):
            await verifier.verify(foreign.person_token("ada"))
    assert issuer.key_source.fetches == fetched
