"""The SCIM server's storage: SCIM resources in, the provisioning use cases behind.

scim2-server validates a request, applies a PATCH or PUT to the stored resource and
hands over the whole new resource; this module picks out what Peerloop keeps
(`Account`) and keeps the rest as sent. Filters are evaluated by scim2-models on the
resources: the store narrows `userName eq` and `externalId eq` (what identity systems
send before each create) to one entry; any other filter walks the users of the
organisation, which a page-sized directory sync can afford.
"""

from __future__ import annotations

from typing import Any, Union, cast

from scim2_models import (
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import AsyncScimStorage, SearchPage
from scim2_server.utils import parametrize

from peerloop_profiles.application.errors import EntryNotFound, NameTaken, StaleEntry
from peerloop_profiles.application.provisioning import Provisioning
from peerloop_profiles.domain.directory import Account, DirectoryEntry, EntryKind
from peerloop_profiles.entrypoints.scim.provider import ENTERPRISE_SCHEMA, provider

Attributes = dict[str, Any]


def version_tag(version: int) -> str:
    return f'W/"{version}"'


def version_number(tag: str | None) -> int | None:
    """The entry version of an ETag; one this service never gave matches no entry (-1)."""
    if tag is None:
        return None
    digits = tag.removeprefix("W/").strip('"')
    return int(digits) if digits.isdigit() and len(digits) <= 18 else -1


def account_of(attributes: Attributes) -> Account:
    """What a user resource says about the person."""
    emails = attributes.get("emails") or []
    email = next((e for e in emails if e.get("primary")), emails[0] if emails else {})
    name = attributes.get("name") or {}
    given = " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
    enterprise = attributes.get(ENTERPRISE_SCHEMA) or {}
    manager = enterprise.get("manager") or {}
    return Account(
        user_name=attributes["userName"],
        display_name=attributes.get("displayName") or name.get("formatted") or given or None,
        email=email.get("value"),
        active=attributes.get("active", True),
        department=enterprise.get("department"),
        manager_id=manager.get("value"),
        time_zone=attributes.get("timezone"),
        language=attributes.get("preferredLanguage"),
    )


def _kind(resource_type: ResourceType) -> EntryKind:
    return EntryKind(str(resource_type.name))


def _attributes(resource: Resource[Any]) -> Attributes:
    dumped = resource.model_dump(mode="json")
    return {k: v for k, v in dumped.items() if k not in ("id", "meta")}


def _members(attributes: Attributes) -> list[str]:
    return [m["value"] for m in attributes.get("members") or [] if m.get("value")]


class ProvisioningStorage(AsyncScimStorage):
    def __init__(self, provisioning: Provisioning) -> None:
        self.provisioning = provisioning

    def resource(self, resource_type: ResourceType, entry: DirectoryEntry) -> Resource[Any]:
        model = provider().model_for(resource_type)
        if model is None:
            raise NotFoundException(detail=f"no resource type {resource_type.name}")
        resource = cast(
            Resource[Any],
            model.model_validate(
                {**entry.attributes, "id": entry.entry_id, "externalId": entry.external_id}
            ),
        )
        resource.meta = Meta(
            resource_type=resource_type.name,
            created=entry.created,
            last_modified=entry.modified,
            version=version_tag(entry.version),
        )
        return resource

    async def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        try:
            entry = await self.provisioning.get(_kind(resource_type), resource_id)
        except EntryNotFound as exc:
            raise NotFoundException(detail=str(exc)) from exc
        return self.resource(resource_type, entry)

    async def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        found: list[Resource[Any]] = []
        for resource_type in resource_types:
            scim_filter = search_request.filter
            entries = await self.provisioning.find(
                _kind(resource_type), **_narrowing(resource_type, scim_filter)
            )
            resources = [self.resource(resource_type, e) for e in entries]
            if scim_filter is not None and not scim_filter.models and resources:
                # A filter at the root names no model: bind it to this type's.
                models = tuple(dict.fromkeys(type(r) for r in resources))
                scim_filter = parametrize(ScimFilter, Union[models])(str(scim_filter))  # noqa: UP007
            found.extend(r for r in resources if scim_filter is None or scim_filter.match(r))
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    async def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        attributes = _attributes(resource)
        external_id = attributes.pop("externalId", None)
        try:
            if _kind(resource_type) is EntryKind.USER:
                entry = await self.provisioning.create_user(
                    account_of(attributes), external_id=external_id, attributes=attributes
                )
            else:
                entry = await self.provisioning.create_group(
                    attributes["displayName"],
                    _members(attributes),
                    external_id=external_id,
                    attributes=attributes,
                )
        except NameTaken as exc:
            raise UniquenessException(detail=str(exc)) from exc
        return self.resource(resource_type, entry)

    async def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        attributes = _attributes(resource)
        external_id = attributes.pop("externalId", None)
        entry_id = cast(str, resource.id)
        version = version_number(expected_version)
        try:
            if _kind(resource_type) is EntryKind.USER:
                entry = await self.provisioning.replace_user(
                    entry_id,
                    account_of(attributes),
                    external_id=external_id,
                    attributes=attributes,
                    expected_version=version,
                )
            else:
                entry = await self.provisioning.replace_group(
                    entry_id,
                    attributes["displayName"],
                    _members(attributes),
                    external_id=external_id,
                    attributes=attributes,
                    expected_version=version,
                )
        except EntryNotFound as exc:
            raise NotFoundException(detail=str(exc)) from exc
        except StaleEntry as exc:
            raise PreconditionFailedException(detail=str(exc)) from exc
        except NameTaken as exc:
            raise UniquenessException(detail=str(exc)) from exc
        return self.resource(resource_type, entry)

    async def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        version = version_number(expected_version)
        try:
            if _kind(resource_type) is EntryKind.USER:
                await self.provisioning.delete_user(resource_id, expected_version=version)
            else:
                await self.provisioning.delete_group(resource_id, expected_version=version)
        except EntryNotFound as exc:
            raise NotFoundException(detail=str(exc)) from exc
        except StaleEntry as exc:
            raise PreconditionFailedException(detail=str(exc)) from exc


_NARROWABLE = {"username": "name", "displayname": "name", "externalid": "external_id"}


def _narrowing(resource_type: ResourceType, scim_filter: ScimFilter[Any] | None) -> dict[str, str]:
    """`userName eq "x"` or `externalId eq "x"`: the store's index finds the one entry.

    Only a narrowing: the filter is still evaluated on what the store returns.
    """
    if scim_filter is None:
        return {}
    node = scim_filter.ast
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq:
        return {}
    if not isinstance(node.value, str):
        return {}
    attribute = str(node.attr_path).rsplit(":", 1)[-1].casefold()
    field = _NARROWABLE.get(attribute)
    if field == "name" and (attribute == "username") != (resource_type.name == "User"):
        return {}
    if field is None:
        return {}
    return {field: node.value}
