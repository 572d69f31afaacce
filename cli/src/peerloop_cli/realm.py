"""The demo realm `peerloop` as Keycloak realm JSON, generated from the demo organisation.

    python -m peerloop_cli.realm          # rewrites deploy/keycloak/peerloop-realm.json
    python -m peerloop_cli.realm --check  # exit 1 if the committed file is stale

Demo only: every person has the same password (DEMO_PASSWORD), the service
accounts have published secrets, and the password hash policy is deliberately
cheap (PBKDF2-SHA256, 1,000 iterations) so that importing 200 people and
logging them in during tests costs milliseconds. A real deployment brings its
own identity provider; nothing here is meant for one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from peerloop_cli.demo_data import DemoOrganisation, build_organisation

REALM = "peerloop"
AUDIENCE = "peerloop"
DEMO_PASSWORD = "peerloop-demo"  # noqa: S105 - published demo password
ADMIN_GROUP = "peerloop-admins"
# Every person is in PEOPLE_GROUP and every service account in SERVICES_GROUP, so
# that the `groups` claim is in every access token (Keycloak leaves it out when
# empty) and a service can tell a person's token from a machine's.
PEOPLE_GROUP = "peerloop-people"
SERVICES_GROUP = "peerloop-services"
ADMINS = ("p-010", "p-020")
ACCESS_TOKEN_LIFESPAN_S = 30 * 60
CLI_CLIENT = "peerloop-cli"
WEB_CLIENT = "peerloop-web"
WEB_REDIRECT = "http://127.0.0.1:8100/*"
# Keycloak matches a redirect to the loopback address 127.0.0.1 on any port against a URI
# registered without a port (RFC 8252, 7.3), so the web app's tests can run on free ports
# while nothing outside this machine is a valid redirect.
WEB_REDIRECT_ANY_LOOPBACK_PORT = "http://127.0.0.1/*"
# client id -> (published demo secret, the one scope it may ask for)
SERVICE_ACCOUNTS: dict[str, tuple[str, str]] = {
    "peerloop-hr": ("peerloop-hr-demo-secret", "profiles:provision"),
    "peerloop-insights": ("peerloop-insights-demo-secret", "insights:read"),
    # The chat app acts for the people linked to chat accounts (runtime auth.delegation).
    "peerloop-chat": ("peerloop-chat-demo-secret", "peerloop:act-for-person"),
    "peerloop-scim": ("peerloop-scim-demo-secret", "scim:provision"),
}
CHAT_DELEGATION_SCOPE = SERVICE_ACCOUNTS["peerloop-chat"][1]
WEB_SECRET = "peerloop-web-demo-secret"  # noqa: S105 - published demo secret
PASSWORD_POLICY = "hashAlgorithm(pbkdf2-sha256) and hashIterations(1000) and length(8)"  # noqa: S105 - a policy, not a password
# Every client gets these: `sub`, the person's names and e-mail, aud + groups.
DEFAULT_SCOPES = ("basic", "profile", "email", "peerloop-audience")


def realm_path() -> Path:
    from peerloop_cli.infra.paths import repo_root

    return repo_root() / "deploy" / "keycloak" / "peerloop-realm.json"


def _mapper(name: str, kind: str, **config: str) -> dict[str, Any]:
    return {
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": kind,
        "consentRequired": False,
        "config": dict(sorted(config.items())),
    }


def _claim(name: str, attribute: str, claim: str, json_type: str = "String") -> dict[str, Any]:
    kind = (
        "oidc-usermodel-property-mapper"
        if attribute == "emailVerified"
        else "oidc-usermodel-attribute-mapper"
    )
    return _mapper(
        name,
        kind,
        **{
            "user.attribute": attribute,
            "claim.name": claim,
            "jsonType.label": json_type,
            "id.token.claim": "true",
            "access.token.claim": "true",
            "userinfo.token.claim": "true",
            "introspection.token.claim": "true",
        },
    )


def _scope(
    name: str, description: str, mappers: list[dict[str, Any]], *, in_scope: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "protocol": "openid-connect",
        "attributes": {
            "include.in.token.scope": "true" if in_scope else "false",
            "display.on.consent.screen": "false",
        },
        "protocolMappers": mappers,
    }


def client_scopes() -> list[dict[str, Any]]:
    """The realm's scopes, all spelled out: a realm file with any scope gets no built-in ones."""
    return [
        _scope(
            "basic",
            "sub and auth_time",
            [
                _mapper(
                    "sub",
                    "oidc-sub-mapper",
                    **{"access.token.claim": "true", "introspection.token.claim": "true"},
                ),
                _mapper(
                    "auth_time",
                    "oidc-usersessionmodel-note-mapper",
                    **{
                        "user.session.note": "AUTH_TIME",
                        "claim.name": "auth_time",
                        "jsonType.label": "long",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "introspection.token.claim": "true",
                    },
                ),
            ],
            in_scope=False,
        ),
        _scope(
            "profile",
            "preferred_username (the person id) and names",
            [
                _claim("username", "username", "preferred_username"),
                _claim("given name", "firstName", "given_name"),
                _claim("family name", "lastName", "family_name"),
                _mapper(
                    "full name",
                    "oidc-full-name-mapper",
                    **{
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "userinfo.token.claim": "true",
                        "introspection.token.claim": "true",
                    },
                ),
            ],
            in_scope=True,
        ),
        _scope(
            "email",
            "email and email_verified",
            [
                _claim("email", "email", "email"),
                _claim("email verified", "emailVerified", "email_verified", "boolean"),
            ],
            in_scope=True,
        ),
        _scope(
            "peerloop-audience",
            f"aud={AUDIENCE} and the group names a caller is in",
            [
                _mapper(
                    "audience",
                    "oidc-audience-mapper",
                    **{
                        "included.custom.audience": AUDIENCE,
                        "access.token.claim": "true",
                        "id.token.claim": "false",
                        "introspection.token.claim": "true",
                    },
                ),
                _mapper(
                    "groups",
                    "oidc-group-membership-mapper",
                    **{
                        "claim.name": "groups",
                        "full.path": "false",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "userinfo.token.claim": "true",
                        "introspection.token.claim": "true",
                    },
                ),
            ],
            in_scope=False,
        ),
        _scope(
            "service_account",
            "client_id: only client-credentials tokens carry it (the services'"
            " PEERLOOP_AUTH__SERVICE_ACCOUNT_MARKER), so a machine is never taken for a person",
            [
                _mapper(
                    "client id",
                    "oidc-usersessionmodel-note-mapper",
                    **{
                        "user.session.note": "client_id",
                        "claim.name": "client_id",
                        "jsonType.label": "String",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "introspection.token.claim": "true",
                    },
                ),
            ],
            in_scope=False,
        ),
        *(
            _scope(scope, f"granted to the {client} service account", [], in_scope=True)
            for client, (_secret, scope) in SERVICE_ACCOUNTS.items()
        ),
    ]


def clients() -> list[dict[str, Any]]:
    common: dict[str, Any] = {
        "enabled": True,
        "protocol": "openid-connect",
        "fullScopeAllowed": False,
        "implicitFlowEnabled": False,
        "frontchannelLogout": False,
    }
    result: list[dict[str, Any]] = [
        {
            **common,
            "clientId": CLI_CLIENT,
            "name": "peerloop CLI, demo and tests (password grant)",
            "publicClient": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "serviceAccountsEnabled": False,
            "defaultClientScopes": list(DEFAULT_SCOPES),
            "optionalClientScopes": [],
        },
        {
            **common,
            "clientId": WEB_CLIENT,
            "name": "peerloop web app (authorization code + PKCE)",
            "publicClient": False,
            "clientAuthenticatorType": "client-secret",
            "secret": WEB_SECRET,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "serviceAccountsEnabled": False,
            "redirectUris": [WEB_REDIRECT, WEB_REDIRECT_ANY_LOOPBACK_PORT],
            "webOrigins": ["http://127.0.0.1:8100"],
            "attributes": {
                "pkce.code.challenge.method": "S256",
                "post.logout.redirect.uris": f"{WEB_REDIRECT}##{WEB_REDIRECT_ANY_LOOPBACK_PORT}",
            },
            "defaultClientScopes": list(DEFAULT_SCOPES),
            "optionalClientScopes": [],
        },
    ]
    for client_id, (secret, scope) in SERVICE_ACCOUNTS.items():
        result.append(
            {
                **common,
                "clientId": client_id,
                "name": f"{client_id} service account (client credentials)",
                "publicClient": False,
                "clientAuthenticatorType": "client-secret",
                "secret": secret,
                "standardFlowEnabled": False,
                "directAccessGrantsEnabled": False,
                "serviceAccountsEnabled": True,
                # profile: preferred_username is service-account-<client id>.
                "defaultClientScopes": [
                    "basic",
                    "profile",
                    "peerloop-audience",
                    "service_account",
                ],
                "optionalClientScopes": [scope],
            }
        )
    return result


def users(org: DemoOrganisation) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    for person in org.people:
        first, _, last = person.display_name.partition(" ")
        people.append(
            {
                "username": person.person_id,
                "email": person.email,
                "emailVerified": True,
                "firstName": first,
                "lastName": last or first,
                "enabled": True,
                "credentials": [{"type": "password", "value": DEMO_PASSWORD, "temporary": False}],
                "groups": [f"/{PEOPLE_GROUP}"]
                + ([f"/{ADMIN_GROUP}"] if person.person_id in ADMINS else []),
            }
        )
    accounts = [
        {
            "username": f"service-account-{client_id}",
            "enabled": True,
            "serviceAccountClientId": client_id,
            "groups": [f"/{SERVICES_GROUP}"],
        }
        for client_id in SERVICE_ACCOUNTS
    ]
    return people + accounts


def build_realm(org: DemoOrganisation | None = None) -> dict[str, Any]:
    org = org or build_organisation()
    return {
        "realm": REALM,
        "displayName": "Peerloop (demo)",
        "enabled": True,
        "sslRequired": "external",
        "registrationAllowed": False,
        "loginWithEmailAllowed": True,
        "duplicateEmailsAllowed": False,
        "resetPasswordAllowed": False,
        "editUsernameAllowed": False,
        "bruteForceProtected": False,
        "passwordPolicy": PASSWORD_POLICY,
        "defaultSignatureAlgorithm": "RS256",
        "accessTokenLifespan": ACCESS_TOKEN_LIFESPAN_S,
        "ssoSessionIdleTimeout": 8 * 3600,
        "ssoSessionMaxLifespan": 10 * 3600,
        "clientScopes": client_scopes(),
        "defaultDefaultClientScopes": list(DEFAULT_SCOPES),
        "defaultOptionalClientScopes": [],
        "groups": [
            {"name": name, "path": f"/{name}"}
            for name in (ADMIN_GROUP, PEOPLE_GROUP, SERVICES_GROUP)
        ],
        # People registered later through the admin API join it too.
        "defaultGroups": [f"/{PEOPLE_GROUP}"],
        "clients": clients(),
        "users": users(org),
    }


def render(org: DemoOrganisation | None = None) -> str:
    return json.dumps(build_realm(org), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    path = realm_path()
    text = render()
    if args.check:
        if not path.is_file() or path.read_text() != text:
            print(f"{path} is stale; run `python -m peerloop_cli.realm`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
