"""The sequence editor: built-ins, saving steps, errors and the live preview."""

from __future__ import annotations

from typing import Any

from crm.models import Angle
from crm.outreach.sequences import find_angle


def _steps_form(steps: list[tuple[int, str, str]]) -> dict[str, str]:
    data: dict[str, str] = {}
    for i, (day, subject, body) in enumerate(steps):
        data[f"steps-{i}-day_offset"] = str(day)
        data[f"steps-{i}-subject"] = subject
        data[f"steps-{i}-body"] = body
    return data


def test_sequences_page_lists_every_built_in_angle(client: Any, team: dict[str, Any]) -> None:
    client.login(team["specialist"].email)
    html = client.get("/sequences").get_data(as_text=True)
    for label in ("resource replacement", "broken link", "skyscraper", "roundup inclusion"):
        assert label in html


def test_manager_saves_a_three_step_sequence(client: Any, db: Any, team: dict[str, Any]) -> None:
    client.login(team["manager"].email)
    url = "/sequences/broken-link"
    response = client.post_form(
        url,
        {
            "action": "save",
            **_steps_form(
                [
                    (
                        0,
                        "Dead link on {{ prospect.domain }}",
                        "Hi {{ contact.first_name }}, a link is dead.",
                    ),
                    (4, "", "Just checking in."),
                    (9, "", "Last note from me."),
                ]
            ),
        },
    )
    assert response.status_code == 302
    steps = find_angle("broken link").sequence.steps
    assert [(s.position, s.day_offset) for s in steps] == [(1, 0), (2, 4), (3, 9)]


def test_a_template_with_a_sandbox_escape_is_refused_with_the_reason(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.login(team["manager"].email)
    response = client.post_form(
        "/sequences/broken-link",
        {
            "action": "save",
            **_steps_form(
                [
                    (0, "Hi", "{{ ''.__class__.__mro__ }}"),
                ]
            ),
        },
    )
    assert response.status_code == 200
    assert "step 1:" in response.get_data(as_text=True)
    assert len(find_angle("broken link").sequence.steps) == 4


def test_specialist_may_read_but_not_save_a_sequence(client: Any, team: dict[str, Any]) -> None:
    client.login(team["specialist"].email)
    assert client.get("/sequences/broken-link").status_code == 200
    response = client.post_form(
        "/sequences/broken-link",
        {
            "action": "save",
            **_steps_form(
                [
                    (0, "Hi", "Body"),
                ]
            ),
        },
    )
    assert response.status_code == 403


def test_preview_shows_a_missing_merge_field_as_the_touchs_error(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    response = client.post_form(
        "/sequences/broken-link/preview",
        _steps_form(
            [
                (0, "Hello {{ contact.nickname }}", "Body"),
                (3, "", "Hi {{ contact.first_name }}, following up."),
            ]
        ),
        page="/sequences/broken-link",
    )
    html = response.get_data(as_text=True)
    assert "contact.nickname" in html
    assert "Hi Sarah, following up." in html


def test_manager_adds_an_angle_of_their_own(client: Any, db: Any, team: dict[str, Any]) -> None:
    client.login(team["manager"].email)
    response = client.post_form(
        "/sequences/angles", {"label": "Podcast guest", "hint": "shows"}, page="/sequences"
    )
    assert response.status_code == 302
    assert db.session.query(Angle).filter_by(slug="podcast-guest").one().builtin is False


def test_preview_renders_for_a_chosen_prospect_and_its_first_contact(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    from tests.factories import ContactFactory, ProspectFactory

    prospect = ProspectFactory(
        campaign=team["campaign"], domain="pmtoolsreview.com", angle="broken-link"
    )
    ContactFactory(prospect=prospect, first_name="Priya", email="priya@pmtoolsreview.com")
    db.session.commit()
    client.login(team["specialist"].email)
    data = {
        "prospect_id": str(prospect.id),
        **_steps_form(
            [
                (0, "For {{ prospect.domain }}", "Hi {{ contact.first_name }}!"),
            ]
        ),
    }
    html = client.post_form(
        "/sequences/broken-link/preview", data, page="/sequences/broken-link"
    ).get_data(as_text=True)
    assert "For pmtoolsreview.com" in html
    assert "Hi Priya!" in html


def test_a_specialist_reads_the_steps_without_edit_fields(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.login(team["specialist"].email)
    html = client.get("/sequences/broken-link").get_data(as_text=True)
    assert "<textarea" not in html and "Save sequence" not in html
    assert "Only managers edit sequences." in html and 'class="email-body"' in html
    assert "Insert a merge field" not in html


def test_a_manager_gets_a_merge_field_menu_with_fallbacks_for_optional_fields(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["manager"].email)
    html = client.get("/sequences/broken-link").get_data(as_text=True)
    assert "<textarea" in html and "Insert a merge field" in html
    assert 'data-insert="{{ prospect.domain }}"' in html
    assert 'data-insert="{{ contact.first_name|default(&#34;there&#34;) }}"' in html


def test_the_preview_starts_on_a_real_prospect_the_user_may_see(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    from tests.factories import ContactFactory, ProspectFactory

    theirs = ProspectFactory(campaign=team["other_campaign"], domain="hidden.example")
    ContactFactory(prospect=theirs)
    mine = ProspectFactory(campaign=team["campaign"], domain="mine.example", angle="broken-link")
    ContactFactory(prospect=mine)
    db.session.commit()
    client.login(team["specialist"].email)
    html = client.get("/sequences/broken-link").get_data(as_text=True)
    assert f'<option value="{mine.id}" selected>mine.example</option>' in html
    assert "hidden.example" not in html
    refused = client.post_form(
        "/sequences/broken-link/preview",
        {"prospect_id": str(theirs.id), **_steps_form([(0, "Hi", "Body")])},
        page="/sequences/broken-link",
    )
    assert refused.status_code == 404
