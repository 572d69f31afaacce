"""Committed JSON Schemas of the events, and the history the compatibility gate reads.

Layout, one folder per event name:

    contracts/schemas/<event>/v<N>.json             the schema of the current model
    contracts/schemas/<event>/history/v<N>.r<K>.json every published revision of v<N>

A revision is archived whenever the schema's structure changes (annotations such
as descriptions and examples do not count). `write` refuses to archive, and
leaves the committed files alone, when the new structure breaks any earlier
revision: such a change has to be a new event version (`v<N+1>`, its own type and
topic) published beside the old one while subscribers migrate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peerloop_contracts.base import Event
from peerloop_contracts.schema_tools import REGENERATE_COMMAND
from peerloop_contracts.schema_tools.compatibility import Revision, full_transitive_problems
from peerloop_contracts.schema_tools.examples import example_of
from peerloop_contracts.states import EntityState

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_ANNOTATIONS = frozenset(
    {"title", "description", "examples", "default", "$comment", "$id", "$schema", "deprecated"}
)
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_SCHEMA_VALUES = frozenset(
    {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"}
)
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_REVISION_FILE = re.compile(r"^v(?P<version>\d+)\.r(?P<revision>\d+)\.json$")


def producer_schema(event: type[Event], *, with_example: bool = True) -> dict[str, Any]:
    """The closed schema a producer's events satisfy, with where and how it travels."""
    generated = event.model_json_schema(mode="validation")
    examples = [json.loads(example_of(event).to_json())] if with_example else []
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:peerloop:schema:{event.event_name}:v{event.version}",
        **generated,
        "examples": examples,
        "x-ce-type": event.ce_type(),
        "x-ce-source": event.ce_source(),
        "x-owner": event.owner,
        "x-topic": event.topic(),
        "x-key": event.aggregate,
        **_compaction(event),
    }


def _compaction(event: type[Event]) -> dict[str, Any]:
    """A state record's topic is compacted, and a null value on it is a tombstone."""
    if not issubclass(event, EntityState):
        return {}
    return {
        "x-cleanup-policy": "compact",
        "x-tombstone": "a record with this key and a null value: the aggregate was erased; "
        "delete what you hold about it",
    }


def structure(schema: Any) -> Any:
    """The schema without annotations: what decides whether data is valid."""
    if isinstance(schema, list):
        return [structure(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            kept[key] = {name: structure(sub) for name, sub in value.items()}
        elif key in _SCHEMA_VALUES or key in _SCHEMA_LISTS:
            kept[key] = structure(value)
        else:
            kept[key] = value
    return kept


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def schema_path(schemas_dir: Path, event: type[Event]) -> Path:
    return schemas_dir / event.event_name / f"v{event.version}.json"


def history_dir(schemas_dir: Path, event_name: str) -> Path:
    return schemas_dir / event_name / "history"


def revisions(schemas_dir: Path, event_name: str, version: int) -> list[tuple[int, Path]]:
    """(revision number, file) of every archived revision of one version, oldest first."""
    folder = history_dir(schemas_dir, event_name)
    found = []
    for path in folder.glob(f"v{version}.r*.json") if folder.is_dir() else ():
        match = _REVISION_FILE.match(path.name)
        if match and int(match["version"]) == version:
            found.append((int(match["revision"]), path))
    return sorted(found)


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def gate_revisions(schemas_dir: Path, event: type[Event]) -> list[Revision]:
    """Every archived revision, the committed schema and the current model, oldest first."""
    found = [
        Revision(f"{event.event_name} v{event.version}.r{number}", load(path))
        for number, path in revisions(schemas_dir, event.event_name, event.version)
    ]
    committed = schema_path(schemas_dir, event)
    if committed.exists():
        schema = load(committed)
        # Normally the latest revision; a hand edit of the committed file shows up here.
        if not found or structure(schema) != structure(found[-1].schema):
            label = f"committed {event.event_name}/{committed.name}"
            found.append(Revision(label, schema))
    current = producer_schema(event, with_example=False)
    found.append(Revision(f"the current {event.__name__} model", current))
    return found


def gate_problems(schemas_dir: Path, event: type[Event]) -> list[str]:
    """FULL_TRANSITIVE breaks of one event version, each naming the field."""
    return full_transitive_problems(gate_revisions(schemas_dir, event))


def orphaned_schemas(schemas_dir: Path, events: Iterable[type[Event]]) -> list[str]:
    """Committed event versions with no model left: subscribers of them would starve."""
    modelled = {(e.event_name, e.version) for e in events}
    orphans = []
    for path in sorted(schemas_dir.glob("*/v*.json")):
        match = re.match(r"^v(\d+)\.json$", path.name)
        if match and (path.parent.name, int(match[1])) not in modelled:
            orphans.append(f"{path.parent.name} v{match[1]}")
    return orphans


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)


def write_schemas(schemas_dir: Path, events: Iterable[type[Event]]) -> WriteReport:
    """Regenerate the committed schemas; archive a compatible new structure as a revision."""
    report = WriteReport()
    for event in events:
        schema = producer_schema(event)
        label = f"{event.event_name} v{event.version}"
        history = revisions(schemas_dir, event.event_name, event.version)
        latest = load(history[-1][1]) if history else None
        if latest is None or structure(latest) != structure(schema):
            problems = full_transitive_problems(
                [Revision(f"{label}.r{n}", load(p)) for n, p in history]
                + [Revision(f"the current {event.__name__} model", schema)]
            )
            if problems:
                report.refused[label] = problems
                continue
            number = history[-1][0] + 1 if history else 1
            archive = (
                history_dir(schemas_dir, event.event_name) / f"v{event.version}.r{number}.json"
            )
            archive.parent.mkdir(parents=True, exist_ok=True)
            archive.write_text(render(schema), encoding="utf-8")
            report.archived.append(f"{label}.r{number}")
        target = schema_path(schemas_dir, event)
        text = render(schema)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            report.written.append(str(target.relative_to(schemas_dir)))
    return report


def drifted_schemas(schemas_dir: Path, events: Iterable[type[Event]]) -> list[str]:
    """Events whose committed schema is missing or differs from the model."""
    drifted = []
    for event in events:
        path = schema_path(schemas_dir, event)
        if not path.exists() or path.read_text(encoding="utf-8") != render(producer_schema(event)):
            drifted.append(
                f"{event.event_name} v{event.version} ({event.__module__}.{event.__name__})"
            )
    return drifted


def drift_message(drifted: Iterable[str]) -> str:
    names = ", ".join(drifted)
    return (
        f"the committed JSON Schemas differ from the event models: {names}. "
        f"Regenerate them with `{REGENERATE_COMMAND}` and commit contracts/schemas/ "
        "(it refuses, naming the field, if the change would break a subscriber)."
    )
