"""The shared text types take every script and refuse what hides or reorders text."""

from __future__ import annotations

import pytest
from peerloop_contracts.base import TOLERANT
from peerloop_contracts.common import Description, DisplayName
from pydantic import TypeAdapter, ValidationError

NAME = TypeAdapter(DisplayName)
TEXT = TypeAdapter(Description)


@pytest.mark.parametrize(
    "name",
    [
        "Ada Lovelace",
        "نور الهدى",  # right to left
        "\u200fשרה כהן\u200f",  # with right-to-left marks
        "می\u200cخواهم",  # Persian needs the zero-width non-joiner
        "👩\u200d💻 Dev",  # emoji sequences need the zero-width joiner
        "José Ñúñez",
    ],
)
def test_names_in_every_script_are_taken(name: str) -> None:
    assert NAME.validate_python(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("admin\u202egnp.exe", "right-to-left override"),
        ("Ada\u202a", "left-to-right embedding"),
        ("Ada\u2066x\u2069", "isolates"),
        ("Ad\u200ba", "zero-width space"),
        ("\ufeffAda", "byte order mark"),
        ("Ada\u2060", "word joiner"),
        ("Ada\x07", "control character"),
    ],
)
def test_names_refuse_what_hides_or_reorders_text(name: str, why: str) -> None:
    with pytest.raises(ValidationError, match="control or invisible characters"):
        NAME.validate_python(name)


def test_free_text_keeps_lines_and_scripts_but_refuses_bidi_overrides() -> None:
    assert TEXT.validate_python("line one\n\tline two — مرحبا") == "line one\n\tline two — مرحبا"
    with pytest.raises(ValidationError, match="bidi override"):
        TEXT.validate_python("looks fine \u202e)(lave")


def test_events_already_published_with_such_characters_still_decode() -> None:
    assert NAME.validate_python("Ada\u202e", context={TOLERANT: True}) == "Ada\u202e"
