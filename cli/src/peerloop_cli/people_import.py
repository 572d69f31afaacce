"""`peerloop import people.csv`: people from a spreadsheet, for organisations without SCIM.

The file goes through the profiles service's SCIM endpoints with the provisioning
service account (scope `scim:provision`), exactly as an identity system would send it, so
an import and a SCIM sync make the same people and can take turns. Running it again
changes only what changed in the file (a row whose values are already there is
"unchanged").

Columns (a header row names them, in any order; only `user_name` and `email` are required):

    user_name      unique sign-in name, usually the work e-mail address; the key: a row
                   with a user_name already provisioned updates that person
    email          work e-mail address
    display_name   the name colleagues see (default: user_name)
    team           the team, a SCIM group, made when missing (default: department,
                   then "unassigned")
    department     enterprise department
    manager        the manager's user_name (in the file or already provisioned); empty:
                   no manager
    time_zone      IANA time zone, e.g. Europe/Berlin
    language       preferred language tag, e.g. de
    active         true / false (default true); false takes the person out of matching
    external_id    the person's id in the HR system

Rows are checked first; a row that cannot be read, or that the service refuses, is
reported with its line number and the import goes on with the next. The command ends
non-zero when any row failed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
COLUMNS = (
    "user_name",
    "email",
    "display_name",
    "team",
    "department",
    "manager",
    "time_zone",
    "language",
    "active",
    "external_id",
)
REQUIRED = ("user_name", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE, _FALSE = {"true", "yes", "1", ""}, {"false", "no", "0"}


class CsvFileError(RuntimeError):
    """The file as a whole cannot be imported (no header, unknown columns)."""


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Row:
    line: int
    user_name: str
    email: str
    display_name: str = ""
    team: str = ""
    department: str = ""
    manager: str = ""
    time_zone: str = ""
    language: str = ""
    active: bool = True
    external_id: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class Report:
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    errors: list[RowError] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1

    def fail(self, line: int, message: str) -> None:
        self.errors.append(RowError(line, message))

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def summary(self) -> str:
        parts = [f"{self.outcomes[o]} {o.value}" for o in Outcome if o is not Outcome.FAILED]
        return ", ".join(parts) + f", {len({e.line for e in self.errors})} failed"


def read_rows(path: Path) -> tuple[list[Row], list[RowError]]:
    """The file's rows, checked; line numbers count the header as line 1."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        if not header:
            raise CsvFileError(f"{path}: empty file; the first line names the columns")
        unknown = sorted(set(header) - set(COLUMNS))
        missing = [c for c in REQUIRED if c not in header]
        if unknown or missing:
            raise CsvFileError(
                f"{path}: "
                + "; ".join(
                    [f"unknown column(s) {', '.join(unknown)}"] * bool(unknown)
                    + [f"missing column(s) {', '.join(missing)}"] * bool(missing)
                )
                + f" (columns: {', '.join(COLUMNS)})"
            )
        reader.fieldnames = header
        rows: list[Row] = []
        errors: list[RowError] = []
        seen: dict[str, int] = {}
        for raw in reader:
            line = reader.line_num
            values = {k: (v or "").strip() for k, v in raw.items() if k in COLUMNS}
            if None in raw:
                errors.append(RowError(line, "more values than columns"))
                continue
            problem = _problem(values)
            key = values.get("user_name", "").casefold()
            if problem is None and key in seen:
                problem = f"user_name {values['user_name']!r} is already on line {seen[key]}"
            if problem is not None:
                errors.append(RowError(line, problem))
                continue
            seen[key] = line
            active = values.pop("active", "").lower()
            rows.append(Row(line=line, active=active in _TRUE, **values))
        return rows, errors


def _problem(values: dict[str, str]) -> str | None:
    for column in REQUIRED:
        if not values.get(column):
            return f"{column} is empty"
    if not _EMAIL.match(values["email"]):
        return f"email {values['email']!r} is not an e-mail address"
    if values.get("active", "").lower() not in _TRUE | _FALSE:
        return f"active must be true or false, not {values['active']!r}"
    if values.get("manager", "").casefold() == values["user_name"].casefold():
        return "a person cannot be their own manager"
    return None


def user_resource(row: Row, manager_id: str | None) -> dict[str, Any]:
    enterprise: dict[str, Any] = {}
    if row.department:
        enterprise["department"] = row.department
    if manager_id:
        enterprise["manager"] = {"value": manager_id}
    resource: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE] if enterprise else [USER],
        "userName": row.user_name,
        "displayName": row.display_name or row.user_name,
        "emails": [{"value": row.email, "type": "work", "primary": True}],
        "active": row.active,
    }
    if row.external_id:
        resource["externalId"] = row.external_id
    if row.time_zone:
        resource["timezone"] = row.time_zone
    if row.language:
        resource["preferredLanguage"] = row.language
    if enterprise:
        resource[ENTERPRISE] = enterprise
    return resource


class RowFailedError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Importer:
    """Sends the rows to a SCIM service: users first, then managers and teams."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.ids: dict[str, str] = {}
        """user_name (case-folded) -> SCIM id, of everyone met so far."""
        self.groups: dict[str, dict[str, Any]] = {}

    async def run(self, rows: list[Row], report: Report, step: Callable[[], None]) -> None:
        changed: dict[int, Outcome] = {}
        for row in rows:
            try:
                changed[row.line] = await self._user(row, with_manager=False)
            except RowFailedError as exc:
                report.fail(row.line, exc.message)
            step()
        for row in rows:
            if row.line not in changed:
                step()
                continue
            try:
                if await self._manager_and_team(row) and changed[row.line] is Outcome.UNCHANGED:
                    changed[row.line] = Outcome.UPDATED
                report.count(changed[row.line])
            except RowFailedError as exc:
                report.fail(row.line, exc.message)
            step()

    async def _user(self, row: Row, *, with_manager: bool) -> Outcome:
        manager_id = await self._manager_id(row) if with_manager else None
        existing = await self._find("/Users", "userName", row.user_name)
        if existing is None:
            created = await self._send("POST", "/Users", user_resource(row, manager_id))
            self.ids[row.user_name.casefold()] = created["id"]
            return Outcome.CREATED
        self.ids[row.user_name.casefold()] = existing["id"]
        if not with_manager:
            # Keep the manager the service has until the second pass sets the file's.
            current = (existing.get(ENTERPRISE) or {}).get("manager") or {}
            manager_id = current.get("value")
        wanted = user_resource(row, manager_id)
        if _same(existing, wanted):
            return Outcome.UNCHANGED
        await self._send("PUT", f"/Users/{existing['id']}", wanted)
        return Outcome.UPDATED

    async def _manager_and_team(self, row: Row) -> bool:
        """Whether anything changed."""
        # The file's manager now that everyone in it has an id (none when the cell is empty).
        changed = (await self._user(row, with_manager=True)) is not Outcome.UNCHANGED
        person_id = self.ids[row.user_name.casefold()]
        team = row.team or ""
        if team:
            group = await self._group(team)
            members = {m.get("value") for m in group.get("members") or []}
            if person_id not in members:
                await self._patch_group(group, "add", person_id)
                changed = True
        for other in await self._groups_of(person_id):
            if other["displayName"] != team:
                await self._patch_group(other, "remove", person_id)
                changed = True
        return changed

    async def _manager_id(self, row: Row) -> str | None:
        if not row.manager:
            return None
        key = row.manager.casefold()
        if key not in self.ids:
            found = await self._find("/Users", "userName", row.manager)
            if found is None:
                raise RowFailedError(f"manager {row.manager!r} is not in the file nor provisioned")
            self.ids[key] = found["id"]
        return self.ids[key]

    async def _group(self, name: str) -> dict[str, Any]:
        if name not in self.groups:
            found = await self._find("/Groups", "displayName", name)
            if found is None:
                found = await self._send(
                    "POST", "/Groups", {"schemas": [GROUP], "displayName": name, "members": []}
                )
            self.groups[name] = found
        return self.groups[name]

    async def _groups_of(self, person_id: str) -> list[dict[str, Any]]:
        answer = await self._send(
            "GET", "/Groups", params={"filter": f'members.value eq "{_quoted(person_id)}"'}
        )
        return list(answer.get("Resources") or [])

    async def _patch_group(self, group: dict[str, Any], op: str, person_id: str) -> None:
        operation: dict[str, Any] = (
            {"op": "add", "path": "members", "value": [{"value": person_id}]}
            if op == "add"
            else {"op": "remove", "path": f'members[value eq "{_quoted(person_id)}"]'}
        )
        await self._send(
            "PATCH", f"/Groups/{group['id']}", {"schemas": [PATCH], "Operations": [operation]}
        )
        # Read it back: the next row must see this member.
        self.groups[group["displayName"]] = await self._send("GET", f"/Groups/{group['id']}")

    async def _find(self, endpoint: str, attribute: str, value: str) -> dict[str, Any] | None:
        answer = await self._send(
            "GET", endpoint, params={"filter": f'{attribute} eq "{_quoted(value)}"'}
        )
        resources = answer.get("Resources") or []
        return dict(resources[0]) if resources else None

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            answer = await self.http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise RowFailedError(f"{method} {path}: {exc}") from exc
        if answer.status_code >= 400:
            raise RowFailedError(_scim_error(answer))
        if not answer.content:
            return {}
        result: dict[str, Any] = answer.json()
        return result


def _quoted(value: str) -> str:
    """A value inside a SCIM filter's double quotes (RFC 7644 §3.4.2.2: JSON string rules)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _same(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(existing.get(k) == v for k, v in wanted.items() if k != "schemas") and all(
        k in wanted
        for k in ("externalId", "timezone", "preferredLanguage", ENTERPRISE)
        if existing.get(k)
    )


def _scim_error(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}: {answer.text[:200]}"
    detail = body.get("detail") or body
    kind = f" ({body['scimType']})" if isinstance(body, dict) and body.get("scimType") else ""
    return f"HTTP {answer.status_code}{kind}: {detail}"


def sorted_errors(errors: Iterable[RowError]) -> list[RowError]:
    return sorted(errors, key=lambda e: e.line)
