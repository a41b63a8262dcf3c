"""Contacts CSV import with headers of any spelling (the service)."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.errors import UserError
from crm.models import Contact, Prospect
from crm.outreach.contacts import import_contacts_csv
from tests.factories import ProspectFactory

pytestmark = pytest.mark.postgres

EXPORT = (
    "E-mail Address,Given name,Surname,Job Title,Website\n"
    "sarah@pmtools.com,Sarah,Lee,Editor,https://www.pmtools.com/\n"
)


def test_recognised_synonyms_import_without_a_mapping(db: Any, team: dict[str, Any]) -> None:
    result = import_contacts_csv(team["campaign"], EXPORT.encode(), "export.csv")
    assert (result.added, result.new_prospects) == (1, ["pmtools.com"])
    sarah = db.session.query(Contact).one()
    assert (sarah.first_name, sarah.last_name, sarah.role) == ("Sarah", "Lee", "Editor")


def test_a_mapping_reads_unknown_headers_and_the_domain_defaults_to_the_address(
    db: Any, team: dict[str, Any]
) -> None:
    ProspectFactory(campaign=team["campaign"], domain="pmblog.org")
    data = b"Correo;Nombre;Zona\ned@pmblog.org;Ed;Europe/Madrid\n"
    mapping = {"email": "Correo", "first_name": "nombre", "timezone": "Zona"}
    result = import_contacts_csv(team["campaign"], data, "es.csv", mapping)
    assert (result.added, result.new_prospects) == (1, [])
    ed = db.session.query(Contact).one()
    assert (ed.prospect.domain, ed.first_name, ed.timezone) == (
        "pmblog.org",
        "Ed",
        "Europe/Madrid",
    )


def test_a_bad_row_under_a_mapping_names_the_files_column_and_imports_nothing(
    db: Any, team: dict[str, Any]
) -> None:
    data = b"Correo,Zona\na@ok.com,UTC\nb@ok.com,Mars/Base\n"
    with pytest.raises(UserError) as caught:
        import_contacts_csv(
            team["campaign"], data, "es.csv", {"email": "Correo", "timezone": "Zona"}
        )
    assert caught.value.message.startswith("es.csv, line 3, column Zona:")
    assert caught.value.field == "timezone"
    assert db.session.query(Contact).count() == 0
    assert db.session.query(Prospect).count() == 0


def test_a_nul_character_in_a_contacts_csv_is_named_by_line_and_imports_nothing(
    db: Any, team: dict[str, Any]
) -> None:
    data = b"email,first_name\na@ok.com,Ana\nb@ok.com,Sa\x00rah\n"
    with pytest.raises(UserError) as caught:
        import_contacts_csv(team["campaign"], data, "team.csv")
    assert caught.value.message == (
        "team.csv, line 3, character 12: a NUL character (is this a binary file?)"
    )
    assert db.session.query(Contact).count() == 0
