"""Profiles refuses, with a 422 naming the field, what it could not store or publish."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from peerloop_contracts.common import ERASED_PERSON, MAX_STORED_INT
from peerloop_profiles.entrypoints.api import _expected_version
from peerloop_profiles.entrypoints.schemas import RegisterPerson, SetAvailability, UpdatePerson
from pydantic import ValidationError

BASE: dict[str, Any] = {
    "display_name": "Ada",
    "email": "ada@example.com",
    "team": "billing",
    "time_zone": "Europe/London",
}


def test_the_erased_placeholder_cannot_be_registered() -> None:
    with pytest.raises(ValidationError, match="reserved"):
        RegisterPerson.model_validate({**BASE, "person_id": ERASED_PERSON})


@pytest.mark.parametrize("field", ["display_name", "team", "location"])
@pytest.mark.parametrize(
    "bad",
    ["Ada\nLovelace", "Ada\x00", "Ada\x1b[31m", "Ada\u2028", "Ada\u202eecalevoL", "A\u200bda"],
)
def test_names_refuse_control_bidi_and_invisible_characters(field: str, bad: str) -> None:
    with pytest.raises(ValidationError, match="one line without control or invisible characters"):
        RegisterPerson.model_validate({**BASE, field: bad})


def test_lists_are_capped() -> None:
    with pytest.raises(ValidationError, match="at most 20 items"):
        RegisterPerson.model_validate({**BASE, "languages": ["en"] * 21})
    with pytest.raises(ValidationError, match="at most 7 items"):
        RegisterPerson.model_validate({**BASE, "working_hours": {"days": [1] * 280_000}})
    away = [{"start": "2027-01-01", "end": "2027-01-02"}] * 51
    with pytest.raises(ValidationError, match="at most 50 items"):
        SetAvailability.model_validate({"weekly_capacity": 1, "away_periods": away})


def test_versions_stay_inside_the_stores_integers() -> None:
    with pytest.raises(ValidationError):
        UpdatePerson.model_validate({"version": MAX_STORED_INT + 1})
    assert UpdatePerson.model_validate({"version": MAX_STORED_INT}).version == MAX_STORED_INT


@pytest.mark.parametrize("header", ['"' + "9" * 19 + '"', "9" * 400, "W/x", "-1"])
def test_an_absurd_if_match_is_a_422(header: str) -> None:
    assert _expected_version('W/"3"', None) == 3
    with pytest.raises(RequestValidationError):
        _expected_version(header, None)
