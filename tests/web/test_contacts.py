"""Contacts in the browser: the CSV upload and its column mapper, adding contacts, suppressions."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from crm.models import Contact, Suppression
from tests.factories import ProspectFactory

pytestmark = pytest.mark.postgres

EXPORT = (
    "E-mail Address,Given name,Surname,Job Title,Website\n"
    "sarah@pmtools.com,Sarah,Lee,Editor,https://www.pmtools.com/\n"
)


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


def test_specialist_adds_a_contact_on_the_prospect_page(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    prospect = ProspectFactory(campaign=team["campaign"], domain="pmtoolsreview.com")
    db.session.commit()
    page = f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}"
    client.login(team["specialist"].email)
    response = client.post_form(
        f"{page}/contacts",
        {"email": "Sarah@pmtoolsreview.com", "first_name": "Sarah", "timezone": "Europe/Paris"},
        page=page,
    )
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "sarah@pmtoolsreview.com" in html
    bad = client.post_form(
        f"{page}/contacts", {"email": "sarah", "timezone": "Nowhere/X"}, page=page
    )
    assert bad.status_code == 422
    assert db.session.query(Contact).count() == 1


def test_suppressed_contact_is_marked_on_the_prospect_page(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    prospect = ProspectFactory(campaign=team["campaign"], domain="blocked.com")
    db.session.add(Contact(prospect=prospect, email="ed@blocked.com"))
    db.session.commit()
    client.login(team["manager"].email)
    client.post_form("/suppressions", {"value": "blocked.com", "reason": "partner"})
    assert db.session.query(Suppression).one().value == "blocked.com"
    html = client.get(f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}").get_data(
        as_text=True
    )
    assert "suppressed (domain)" in html


def test_a_specialist_suppresses_an_address_but_not_a_whole_domain(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    refused = client.post_form("/suppressions", {"value": "blocked.com", "reason": "partner"})
    assert "only managers and admins suppress a whole domain" in refused.get_data(as_text=True)
    assert db.session.query(Suppression).count() == 0
    client.post_form("/suppressions", {"value": "ed@blocked.com", "reason": "asked"})
    assert [s.value for s in db.session.query(Suppression)] == ["ed@blocked.com"]


def test_contacts_csv_upload_with_a_bad_row_shows_the_line_and_imports_nothing(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    client.login(team["specialist"].email)
    data = b"domain,email\nok.com,a@ok.com\nbad.com,nope\n"
    response = client.post(
        url,
        data={"csrf_token": client.csrf_token(url), "file": (io.BytesIO(data), "team.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "team.csv, line 3, column email" in response.get_data(as_text=True)
    assert db.session.query(Contact).count() == 0
