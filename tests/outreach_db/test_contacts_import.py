"""Contacts CSV import with headers of any spelling: the service and the web mapper."""

from __future__ import annotations

import io
import re
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


def _upload(client: Any, url: str, data: bytes, name: str) -> Any:
    return client.post(
        url,
        data={"csrf_token": client.csrf_token(url), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _hidden(html: str, name: str) -> str:
    match = (
        re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
        or re.search(rf'type="hidden" name="{name}" value="([^"]*)"', html)
        or re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    )
    assert match, f"no hidden {name}"
    return match.group(1)


def test_web_upload_with_unknown_headers_shows_a_mapper_filled_from_the_file(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    client.login(team["specialist"].email)
    data = b"Correo,Nombre,Website\nbad-address,Ed,pmblog.org\n"
    page = _upload(client, url, data, "team.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Match the columns of team.csv" in html
    assert '<option value="Correo">Correo</option>' in html
    assert '<option selected value="Website">Website</option>' in html
    assert db.session.query(Contact).count() == 0
    form = {
        "csrf_token": client.csrf_token(url),
        "token": _hidden(html, "token"),
        "filename": "team.csv",
        "email": "Correo",
        "domain": "Website",
        "first_name": "Nombre",
        "last_name": "",
        "role": "",
        "timezone": "",
    }
    bad = client.post(f"{url}/map", data=form)
    assert bad.status_code == 422
    assert 'class="field-error" id="email-error">team.csv, line 2, column Correo' in bad.get_data(
        as_text=True
    )
    assert db.session.query(Contact).count() == 0


def test_web_mapper_imports_with_the_chosen_columns(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    client.login(team["specialist"].email)
    html = _upload(client, url, b"Correo,Nombre\ned@pmblog.org,Ed\n", "team.csv").get_data(
        as_text=True
    )
    form = {"csrf_token": client.csrf_token(url), "token": _hidden(html, "token"),
            "filename": "team.csv", "email": "", "first_name": "Nombre"}  # fmt: skip
    missing = client.post(f"{url}/map", data=form)
    assert missing.status_code == 422
    assert "Choose the email column" in missing.get_data(as_text=True)
    done = client.post(f"{url}/map", data={**form, "email": "Correo"})
    assert done.status_code == 302
    ed = db.session.query(Contact).one()
    assert (ed.email, ed.first_name, ed.prospect.domain) == ("ed@pmblog.org", "Ed", "pmblog.org")
    again = client.post(f"{url}/map", data={**form, "email": "Correo"}, follow_redirects=True)
    assert "no longer kept" in again.get_data(as_text=True)


def test_web_mapper_refuses_a_token_of_another_campaign_or_a_forged_one(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    client.login(team["specialist"].email)
    form = {"csrf_token": client.csrf_token(url), "token": "../../secret_key", "email": "x"}
    response = client.post(f"{url}/map", data=form, follow_redirects=True)
    assert "no longer kept" in response.get_data(as_text=True)
    assert db.session.query(Contact).count() == 0


def test_web_upload_with_email_recognised_but_other_columns_unknown_asks_for_them(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    client.login(team["specialist"].email)
    page = _upload(client, url, b"Email,Nombre\ned@pmblog.org,Ed\n", "team.csv")
    html = page.get_data(as_text=True)
    assert "Match the columns of team.csv" in html
    assert '<option selected value="Email">Email</option>' in html
    assert db.session.query(Contact).count() == 0


def test_web_upload_with_every_column_recognised_imports_at_once(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    client.login(team["specialist"].email)
    assert _upload(client, url, EXPORT.encode(), "export.csv").status_code == 302
    assert db.session.query(Contact).one().role == "Editor"
