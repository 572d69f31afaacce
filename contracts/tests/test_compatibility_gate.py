"""The FULL_TRANSITIVE gate itself: which edits of a published event pass, which fail and why."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from peerloop_contracts.base import Event, WireModel
from peerloop_contracts.schema_tools import compatibility, json_schemas
from peerloop_contracts.schema_tools.compatibility import (
    Revision,
    compatibility_problems,
    full_transitive_problems,
)
from pydantic import Field


class Step(WireModel):
    name: str
    minutes: int = Field(ge=1, le=120)


class Published(WireModel):
    """The revision subscribers already use."""

    request_id: str = Field(min_length=1, max_length=64)
    level: int = Field(ge=1, le=5)
    urgency: Literal["low", "normal", "high"] = "normal"
    note: str | None = None
    score: float
    due: datetime
    steps: list[Step]


def _schema(model: type[WireModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _edit(**changes: Any) -> dict[str, Any]:
    """The published schema with top-level property edits (None removes a property)."""
    schema = json.loads(json.dumps(_schema(Published)))
    for name, change in changes.items():
        if change is None:
            schema["properties"].pop(name)
            schema["required"] = [r for r in schema["required"] if r != name]
        elif name == "required":
            schema["required"] = change
        else:
            schema["properties"][name] = change
    return schema


class AddsOptional(Published):
    channel: str | None = None
    tags: list[str] = Field(default_factory=list)


class AddsRequired(Published):
    channel: str


class RetypesLevel(WireModel):
    request_id: str = Field(min_length=1, max_length=64)
    level: str
    urgency: Literal["low", "normal", "high"] = "normal"
    note: str | None = None
    score: float
    due: datetime
    steps: list[Step]


class StepV2(WireModel):
    name: str
    minutes: float


class RetypesNested(WireModel):
    request_id: str = Field(min_length=1, max_length=64)
    level: int = Field(ge=1, le=5)
    urgency: Literal["low", "normal", "high"] = "normal"
    note: str | None = None
    score: float
    due: datetime
    steps: list[StepV2]


COMPATIBLE = [
    pytest.param(_schema(Published), id="unchanged"),
    pytest.param(_schema(AddsOptional), id="adds optional fields"),
    pytest.param(
        _edit(note={"anyOf": [{"type": "string"}, {"type": "null"}], "description": "new words"}),
        id="only annotations change",
    ),
]

BREAKING = [
    pytest.param(
        _schema(AddsRequired), "channel", "producers do not send it", id="adds a required field"
    ),
    pytest.param(
        _edit(score=None), "score", "producers do not send it", id="removes a required field"
    ),
    pytest.param(_edit(note=None), "note", "was removed", id="removes an optional field"),
    pytest.param(_schema(RetypesLevel), "level", "type changed", id="retypes a field"),
    pytest.param(
        _schema(RetypesNested), "steps[].minutes", "type changed", id="retypes a nested field"
    ),
    pytest.param(
        _edit(score={"type": "integer"}), "score", "type changed", id="narrows number to integer"
    ),
    pytest.param(
        _edit(required=[*_schema(Published)["required"], "urgency"]),
        "urgency",
        "may leave it out",
        id="makes an optional field required",
    ),
    pytest.param(
        _edit(required=[r for r in _schema(Published)["required"] if r != "level"]),
        "level",
        "may leave it out",
        id="makes a required field optional",
    ),
    pytest.param(
        _edit(note={"type": "string"}), "note", "type changed", id="drops null from a field"
    ),
    pytest.param(
        _edit(level={"type": ["integer", "null"], "minimum": 1, "maximum": 5}),
        "level",
        "type changed",
        id="makes a field nullable",
    ),
    pytest.param(
        _edit(urgency={"enum": ["low", "normal", "high", "critical"], "type": "string"}),
        "urgency",
        "'critical'",
        id="adds an enum value",
    ),
    pytest.param(
        _edit(urgency={"enum": ["low", "normal"], "type": "string"}),
        "urgency",
        "'high'",
        id="removes an enum value",
    ),
    pytest.param(
        _edit(request_id={"type": "string", "minLength": 1, "maxLength": 32}),
        "request_id",
        "maxLength",
        id="tightens a length",
    ),
    pytest.param(
        _edit(level={"type": "integer", "minimum": 1, "maximum": 10}),
        "level",
        "maximum",
        id="widens a range",
    ),
    pytest.param(
        _edit(due={"type": "string", "format": "date"}), "due", "format", id="changes a format"
    ),
    pytest.param(
        _edit(score={"type": "object", "additionalProperties": {"type": "string"}}),
        "score",
        "type changed",
        id="turns a number into a map",
    ),
]


@pytest.mark.parametrize("newer", COMPATIBLE)
def test_compatible_edits_pass(newer):
    assert compatibility_problems(_schema(Published), newer) == []


@pytest.mark.parametrize(("newer", "field", "why"), BREAKING)
def test_breaking_edits_fail_naming_the_field(newer, field, why):
    problems = compatibility_problems(_schema(Published), newer)
    assert problems, "the gate let a breaking change through"
    assert any(p.field == field and why in p.message for p in problems), [str(p) for p in problems]


def test_a_map_value_retyped_is_a_break():
    older = {
        "type": "object",
        "properties": {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}},
    }
    newer = {
        "type": "object",
        "properties": {"counts": {"type": "object", "additionalProperties": {"type": "string"}}},
    }
    problems = compatibility_problems(older, newer)
    assert any(p.field == "counts{}" and "type changed" in p.message for p in problems), problems
    assert compatibility_problems(older, older) == []


def test_the_gate_is_transitive_across_all_revisions():
    """r1 → r2 adds an optional field, r2 → r3 drops a field r1 required: r1 vs r3 must fail
    even though every neighbouring pair would be checked on its own."""
    r1 = _schema(Published)
    r2 = _schema(AddsOptional)
    r3 = json.loads(json.dumps(r2))
    r3["properties"].pop("score")
    r3["required"].remove("score")
    problems = full_transitive_problems(
        [Revision("r1", r1), Revision("r2", r2), Revision("r3", r3)]
    )
    assert any(m.startswith("r1 → r3: field 'score'") for m in problems), problems
    assert full_transitive_problems([Revision("r1", r1), Revision("r2", r2)]) == []


def test_a_closed_producer_schema_does_not_make_new_fields_a_break():
    """Producer schemas say additionalProperties: false, consumers decode tolerantly."""
    assert _schema(Published)["additionalProperties"] is False
    assert (
        compatibility.reader_problems(reader=_schema(Published), writer=_schema(AddsOptional)) == []
    )


class _Sample(Event):
    event_name: ClassVar[str] = "gate-sample"
    owner: ClassVar[str] = "tests"
    aggregate: ClassVar[str] = "sample_id"

    sample_id: str
    level: int


class _SampleWithOptional(Event):
    event_name: ClassVar[str] = "gate-sample"
    owner: ClassVar[str] = "tests"
    aggregate: ClassVar[str] = "sample_id"

    sample_id: str
    level: int
    hint: str | None = None


class _SampleRetyped(Event):
    event_name: ClassVar[str] = "gate-sample"
    owner: ClassVar[str] = "tests"
    aggregate: ClassVar[str] = "sample_id"

    sample_id: str
    level: str


class _SampleV2(Event):
    """The breaking change done right: a new version, its own type and topic."""

    event_name: ClassVar[str] = "gate-sample"
    version: ClassVar[int] = 2
    owner: ClassVar[str] = "tests"
    aggregate: ClassVar[str] = "sample_id"

    sample_id: str
    level: str


@pytest.fixture
def examples(monkeypatch):
    builders = {
        _SampleV2: lambda: _SampleV2(sample_id="s-1", level="one", sequence=1),
        _Sample: lambda: _Sample(sample_id="s-1", level=1, sequence=1),
        _SampleWithOptional: lambda: _SampleWithOptional(sample_id="s-1", level=1, sequence=1),
        _SampleRetyped: lambda: _SampleRetyped(sample_id="s-1", level="one", sequence=1),
    }
    monkeypatch.setattr("peerloop_contracts.schema_tools.examples._BUILDERS", builders)


def test_write_archives_a_compatible_revision(tmp_path: Path, examples):
    first = json_schemas.write_schemas(tmp_path, [_Sample])
    assert first.archived == ["gate-sample v1.r1"]
    again = json_schemas.write_schemas(tmp_path, [_Sample])
    assert again.archived == again.written == [], "an unchanged model archives nothing"

    report = json_schemas.write_schemas(tmp_path, [_SampleWithOptional])
    assert report.refused == {}
    assert report.archived == ["gate-sample v1.r2"]
    committed = json.loads((tmp_path / "gate-sample" / "v1.json").read_text())
    assert "hint" in committed["properties"]
    assert json_schemas.gate_problems(tmp_path, _SampleWithOptional) == []


def test_write_refuses_a_breaking_change_and_leaves_the_files(tmp_path: Path, examples):
    json_schemas.write_schemas(tmp_path, [_Sample])
    before = (tmp_path / "gate-sample" / "v1.json").read_text()

    report = json_schemas.write_schemas(tmp_path, [_SampleRetyped])

    assert list(report.refused) == ["gate-sample v1"]
    assert any("field 'level': type changed" in p for p in report.refused["gate-sample v1"])
    assert (tmp_path / "gate-sample" / "v1.json").read_text() == before
    assert [p.name for p in (tmp_path / "gate-sample" / "history").iterdir()] == ["v1.r1.json"]
    # The gate fails too, whether or not someone regenerated.
    problems = json_schemas.gate_problems(tmp_path, _SampleRetyped)
    assert any("field 'level': type changed" in p for p in problems), problems


def test_removing_a_published_event_is_reported(tmp_path: Path, examples):
    json_schemas.write_schemas(tmp_path, [_Sample])
    assert json_schemas.orphaned_schemas(tmp_path, []) == ["gate-sample v1"]
    assert json_schemas.orphaned_schemas(tmp_path, [_Sample]) == []


def test_a_hand_edited_committed_schema_fails_the_gate(tmp_path: Path, examples):
    json_schemas.write_schemas(tmp_path, [_Sample])
    committed = tmp_path / "gate-sample" / "v1.json"
    schema = json.loads(committed.read_text())
    schema["properties"]["level"] = {"type": "string"}
    committed.write_text(json.dumps(schema))

    problems = json_schemas.gate_problems(tmp_path, _Sample)

    assert any("committed gate-sample/v1.json" in p and "field 'level'" in p for p in problems)


def test_a_breaking_change_as_v2_is_published_beside_v1(tmp_path: Path, examples):
    json_schemas.write_schemas(tmp_path, [_Sample])

    report = json_schemas.write_schemas(tmp_path, [_Sample, _SampleV2])

    assert report.refused == {}
    assert report.archived == ["gate-sample v2.r1"]
    assert _SampleV2.topic() == "peerloop.gate-sample.v2" != _Sample.topic()
    assert json_schemas.gate_problems(tmp_path, _Sample) == []
    assert json_schemas.gate_problems(tmp_path, _SampleV2) == []
    # Dropping v1 while subscribers may still read it is caught.
    assert json_schemas.orphaned_schemas(tmp_path, [_SampleV2]) == ["gate-sample v1"]
