"""Reading `peerloop import`'s CSV: each bad row named by its line, the file refused whole
only when its header is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from peerloop_cli.people_import import CsvFileError, Row, RowError, read_rows, user_resource


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_are_read_with_their_line_numbers_and_bad_ones_reported(tmp_path: Path) -> None:
    rows, errors = read_rows(
        _write(
            tmp_path,
            "email,user_name,active,manager\n"
            "ada@example.com,ada,,\n"
            "bo@example.com,bo,FALSE,ada\n"
            ",cy,,\n"
            "dee@example,dee,,\n"
            "eve@example.com,eve,maybe,\n"
            "fay@example.com,fay,,fay\n"
            "ada2@example.com,ADA,,\n"
            "gus@example.com,gus,,,extra\n",
        )
    )
    assert rows == [
        Row(line=2, user_name="ada", email="ada@example.com"),
        Row(line=3, user_name="bo", email="bo@example.com", active=False, manager="ada"),
    ]
    assert errors == [
        RowError(4, "email is empty"),
        RowError(5, "email 'dee@example' is not an e-mail address"),
        RowError(6, "active must be true or false, not 'maybe'"),
        RowError(7, "a person cannot be their own manager"),
        RowError(8, "user_name 'ADA' is already on line 2"),
        RowError(9, "more values than columns"),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "empty file"),
        ("user_name,mail\n", "unknown column(s) mail; missing column(s) email"),
        ("email\n", "missing column(s) user_name"),
    ],
)
def test_a_wrong_header_refuses_the_file(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(CsvFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(_write(tmp_path, header))


def test_a_row_becomes_a_scim_user_with_only_what_it_says() -> None:
    row = Row(line=2, user_name="ada", email="ada@example.com", time_zone="Europe/Oslo")
    assert user_resource(row, None) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada",
        "displayName": "ada",
        "emails": [{"value": "ada@example.com", "type": "work", "primary": True}],
        "active": True,
        "timezone": "Europe/Oslo",
    }
    enterprise = user_resource(row.__class__(**{**row.__dict__, "department": "ops"}), "p-boss")
    assert enterprise["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] == {
        "department": "ops",
        "manager": {"value": "p-boss"},
    }
