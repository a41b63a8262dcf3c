"""Which column of a contacts CSV holds which field: synonyms and the user's mapping."""

from __future__ import annotations

import pytest

from crm.core.errors import UserError
from crm.outreach.contact_columns import guess_mapping, resolve_mapping


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("email", "email"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("EMAIL_ADDRESS", "email"),
        (" Work email ", "email"),
        ("First Name", "first_name"),
        ("first_name", "first_name"),
        ("Given name", "first_name"),
        ("Forename", "first_name"),
        ("Last Name", "last_name"),
        ("Surname", "last_name"),
        ("Family name", "last_name"),
        ("Job Title", "role"),
        ("Position", "role"),
        ("Website", "domain"),
        ("Domain", "domain"),
        ("Company Domain", "domain"),
        ("Time zone", "timezone"),
        ("TZ", "timezone"),
    ],
)
def test_common_headers_are_recognised(header: str, field: str) -> None:
    assert guess_mapping(["notes", header]) == {field: 1}


def test_unknown_headers_map_nothing_and_the_first_synonym_wins() -> None:
    assert guess_mapping(["Correo", "Nombre"]) == {}
    assert guess_mapping(["Email", "E-mail"]) == {"email": 0}


def test_a_mapping_names_columns_by_header_over_the_recognised_ones() -> None:
    header = ["Correo", "Nombre", "Website", "Title"]
    mapping = {"email": "correo", "first_name": " Nombre ", "role": ""}
    assert resolve_mapping(header, mapping, "c.csv") == {
        "email": 0,
        "first_name": 1,
        "domain": 2,
    }


@pytest.mark.parametrize(
    ("header", "mapping", "message", "field"),
    [
        (["Correo"], None, "c.csv, line 1: missing column email (found: Correo)", "email"),
        (["Correo"], {"email": "Mail"}, "c.csv, line 1: no column 'Mail' for email", "email"),
        (["Email"], {"phone": "Email"}, "unknown field phone", "mapping"),
        (["Email"], {"email": ""}, "missing column email", "email"),
    ],
)
def test_a_mapping_that_cannot_work_names_the_file_line_and_field(
    header: list[str], mapping: dict[str, str] | None, message: str, field: str
) -> None:
    with pytest.raises(UserError) as caught:
        resolve_mapping(header, mapping, "c.csv")
    assert message in caught.value.message
    assert caught.value.field == field
