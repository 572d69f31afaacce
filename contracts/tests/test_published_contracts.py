"""The committed contracts match the models, and no model breaks a published revision."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from peerloop_contracts.base import Event
from peerloop_contracts.catalogue import ALL_EVENTS
from peerloop_contracts.schema_tools import REGENERATE_COMMAND, SCHEMAS_DIR, json_schemas
from peerloop_contracts.schema_tools.examples import example_data
from pydantic import create_model

EVENTS = [pytest.param(e, id=f"{e.event_name}.v{e.version}") for e in ALL_EVENTS]


def test_committed_schemas_match_the_models():
    drifted = json_schemas.drifted_schemas(SCHEMAS_DIR, ALL_EVENTS)
    assert not drifted, json_schemas.drift_message(drifted)


def test_the_drift_message_names_the_one_command_that_regenerates():
    message = json_schemas.drift_message(["skill-offered v1"])
    assert REGENERATE_COMMAND in message
    assert REGENERATE_COMMAND == ".venv/bin/python -m peerloop_contracts.schema_tools write"


@pytest.mark.parametrize("event", EVENTS)
def test_no_model_breaks_any_published_revision(event: type[Event]):
    """FULL_TRANSITIVE: every history revision, the committed schema and the model, pairwise."""
    assert json_schemas.revisions(SCHEMAS_DIR, event.event_name, event.version), (
        f"{event.event_name} v{event.version} has no published revision in history/: "
        f"run `{REGENERATE_COMMAND}`"
    )
    problems = json_schemas.gate_problems(SCHEMAS_DIR, event)
    assert not problems, (
        f"{event.__name__} breaks subscribers of {event.topic()}:\n  "
        + "\n  ".join(problems)
        + "\nA breaking change must be a new event version (v2, its own type and topic) "
        "published beside v1."
    )


def test_every_published_event_still_has_a_model():
    assert json_schemas.orphaned_schemas(SCHEMAS_DIR, ALL_EVENTS) == []


@pytest.mark.parametrize("event", EVENTS)
def test_retyping_any_field_of_any_model_fails_the_gate_naming_it(event: type[Event]):
    """What CI does when someone changes a field's type without a new version."""
    name = next(n for n in event.model_fields if n != "sequence")
    retyped = create_model(  # type: ignore[call-overload]
        event.__name__, __base__=event, **{name: (dict[str, int], ...)}
    )
    problems = json_schemas.gate_problems(SCHEMAS_DIR, retyped)
    assert any(f"field '{name}': type changed" in p for p in problems), problems


@pytest.mark.parametrize("event", EVENTS)
def test_producer_schema_is_closed_and_describes_the_envelope(event: type[Event]):
    schema = json_schemas.load(json_schemas.schema_path(SCHEMAS_DIR, event))
    Draft202012Validator.check_schema(schema)
    for node in _objects(schema):
        assert node.get("additionalProperties") is False, node.get("title")
    assert schema["x-topic"] == event.topic()
    assert schema["x-ce-type"] == event.ce_type()
    assert schema["x-key"] == event.aggregate
    assert event.aggregate in schema["required"]


@pytest.mark.parametrize("event", EVENTS)
def test_the_example_is_valid_for_schema_and_model(event: type[Event]):
    schema = json_schemas.load(json_schemas.schema_path(SCHEMAS_DIR, event))
    (example,) = schema["examples"]
    assert example == example_data(event)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(example)] == []
    assert event.decode(json.dumps(example)).model_dump(mode="json") == example


@pytest.mark.parametrize("event", EVENTS)
def test_the_schema_rejects_an_unknown_field_and_a_wrong_type(event: type[Event]):
    schema = json_schemas.load(json_schemas.schema_path(SCHEMAS_DIR, event))
    validator = Draft202012Validator(schema)
    assert not validator.is_valid({**example_data(event), "surprise": 1})
    assert not validator.is_valid({**example_data(event), "sequence": "seven"})


@pytest.mark.parametrize("event", EVENTS)
def test_docstring_says_when_who_and_key(event: type[Event]):
    doc = " ".join((event.__doc__ or "").split())
    assert doc, f"{event.__name__} needs a docstring saying when it is emitted"
    assert "Emitted by" in doc, f"{event.__name__}: say who emits it ('Emitted by …')"
    assert f"Key: `{event.aggregate}`" in doc, f"{event.__name__}: name its key"


def _objects(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for key, value in node.items():
            if key not in ("examples", "default"):
                found += _objects(value)
    elif isinstance(node, list):
        for item in node:
            found += _objects(item)
    return found
