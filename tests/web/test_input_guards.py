"""A NUL character in a query or form value is refused before any view reads it."""

from __future__ import annotations

import io
from typing import Any

import pytest

from crm.models import Campaign, Contact

pytestmark = pytest.mark.postgres


def test_a_search_holding_a_nul_character_is_a_bad_request_that_names_the_field(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    response = client.get(f"/campaigns/{team['campaign'].id}/gap?q=kan%00ban")
    assert response.status_code == 400
    assert "The value of “q” holds a NUL character" in response.get_data(as_text=True)


def test_a_form_value_holding_a_nul_character_saves_nothing(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    client.login(team["manager"].email)
    campaign = team["campaign"]
    url = f"/campaigns/{campaign.id}/settings"
    response = client.post_form(url, {"name": "Spring\x00", "site": "example.com"}, page=url)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).name == "Mine"


def test_an_upload_whose_name_holds_a_nul_character_imports_nothing(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    url = f"/campaigns/{team['campaign'].id}/contacts/import"
    upload = (io.BytesIO(b"domain,email\nexample.com,ana@example.com\n"), "contacts\x00.csv")
    response = client.post(url, data={"csrf_token": client.csrf_token(url), "file": upload},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    assert db.session.query(Contact).count() == 0
