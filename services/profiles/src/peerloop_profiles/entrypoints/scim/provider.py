"""What the SCIM endpoints serve: schemas, resource types and capabilities (RFC 7643 §5-7).

The schemas are RFC 7643's, cut to the attributes Peerloop keeps (`schemas.json`), so an
identity system maps only what means something here and a client reading `/Schemas`
learns exactly that. `emails` is required: every person has a work e-mail address.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    Filter,
    Patch,
    ResourceType,
    Schema,
    SchemaExtension,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)

MAX_RESULTS = 200
"""The most resources one page holds; `count` above it is cut to it."""

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def schemas() -> list[Schema]:
    text = files("peerloop_profiles.entrypoints.scim").joinpath("schemas.json").read_text()
    return [Schema.model_validate(s) for s in json.loads(text)]


def resource_types() -> list[ResourceType]:
    return [
        ResourceType(
            id="User",
            name="User",
            endpoint="/Users",
            description="A person of the organisation",
            schema_=USER_SCHEMA,
            schema_extensions=[SchemaExtension(schema_=ENTERPRISE_SCHEMA, required=False)],
        ),
        ResourceType(
            id="Group",
            name="Group",
            endpoint="/Groups",
            description="A team",
            schema_=GROUP_SCHEMA,
        ),
    ]


def config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri="https://github.com/peerloop/peerloop/blob/main/services/profiles/README.md#scim-20-provisioning",
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="OAuth Bearer Token",
                description="An access token of a service account with the scope "
                "scim:provision, from the organisation's OpenID Connect provider",
                primary=True,
            )
        ],
    )


@cache
def provider() -> ScimProvider:
    return ScimProvider.from_discovery(schemas(), resource_types(), config=config())
