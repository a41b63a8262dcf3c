"""The prospect page: moving a prospect through the deal stages by hand, one or in bulk."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.timeline import change_status
from crm.models import ProspectStatus
from tests.factories import ProspectFactory

pytestmark = pytest.mark.postgres


def test_a_specialist_moves_a_prospect_on_with_a_note_from_its_page(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    p = ProspectFactory(campaign=campaign, status=ProspectStatus.REPLIED)
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{campaign.id}/prospects/{p.id}"
    page = client.get(url).get_data(as_text=True)
    assert '<option value="negotiating">negotiating</option>' in page
    assert '<option value="won">' not in page  # the system sets it
    response = client.post_form(f"{url}/stage", {"stage": "negotiating", "note": "wants $50"},
                                page=url)  # fmt: skip
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Moved to negotiating." in page
    assert "negotiating: wants $50" in page  # the badge and the timeline
    db.session.refresh(p)
    assert p.status == ProspectStatus.NEGOTIATING


def test_closing_without_a_reason_is_refused_and_nothing_moves(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    p = ProspectFactory(campaign=campaign, status=ProspectStatus.CONTACTED)
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{campaign.id}/prospects/{p.id}"
    response = client.post_form(f"{url}/stage", {"stage": "not_a_fit", "note": ""}, page=url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        '<small class="field-error" id="stage-note-error">'
        "say why these prospects are not a fit</small>" in page
    )
    assert '<option value="not_a_fit" selected>' in page  # the choice is kept
    db.session.refresh(p)
    assert p.status == ProspectStatus.CONTACTED


def test_a_stage_the_system_sets_is_refused_next_to_the_stage_select(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    p = ProspectFactory(campaign=campaign, status=ProspectStatus.CONTACTED)
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{campaign.id}/prospects/{p.id}"
    response = client.post_form(f"{url}/stage", {"stage": "won", "note": "x"}, page=url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<small class="field-error" id="stage-error">won is set by Linkgap' in page
    assert 'value="x"' in page  # the note typed is kept
    db.session.refresh(p)
    assert p.status == ProspectStatus.CONTACTED


def test_a_prospect_of_another_campaign_is_not_found(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    theirs = ProspectFactory(campaign=team["other_campaign"])
    mine = ProspectFactory(campaign=team["campaign"])
    db.session.commit()
    client.login(team["specialist"].email)
    page = f"/campaigns/{team['campaign'].id}/prospects/{mine.id}"
    response = client.post_form(
        f"/campaigns/{team['campaign'].id}/prospects/{theirs.id}/stage",
        {"stage": "lost", "note": "x"},
        page=page,
    )
    assert response.status_code == 404


def test_the_gap_table_moves_the_selection_to_a_stage_in_bulk(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    ps = [ProspectFactory(campaign=campaign, status=ProspectStatus.CONTACTED, in_gap=True)
          for _ in range(3)]  # fmt: skip
    db.session.commit()
    client.login(team["specialist"].email)
    table = f"/campaigns/{campaign.id}/gap?view=all"
    assert '<option value="not_a_fit">not a fit</option>' in client.get(table).get_data(
        as_text=True
    )
    response = client.post_form(
        f"/campaigns/{campaign.id}/gap/bulk",
        {"action": "stage", "stage": "not_a_fit", "reason": "only sells ads", "scope": "selected",
         "prospect_id": [str(p.id) for p in ps[:2]], "view": "all"},
        page=table,
    )  # fmt: skip
    assert response.status_code == 302
    assert "2 prospects moved" in client.get(response.location).get_data(as_text=True)
    for p in ps:
        db.session.refresh(p)
    assert [p.status for p in ps] == [ProspectStatus.NOT_A_FIT] * 2 + [ProspectStatus.CONTACTED]


def test_a_domain_only_prospect_is_given_its_page_on_its_page(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    p = ProspectFactory(campaign=campaign, domain="blog.example")
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{campaign.id}/prospects/{p.id}"
    assert "none yet: templates that name the prospect" in client.get(url).get_data(as_text=True)
    refused = client.post_form(f"{url}/page", {"page_url": "https://other.example/x"}, page=url)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert (
        '<small class="field-error" id="page_url-error">'
        "that page is on other.example, not on blog.example</small>" in html
    )
    assert 'value="https://other.example/x"' in html and "<details open>" in html
    client.post_form(f"{url}/page", {"page_url": "https://blog.example/resources/"}, page=url)
    page = client.get(url).get_data(as_text=True)
    assert 'href="https://blog.example/resources/"' in page and "(given by hand)" in page


def test_a_specialist_edits_a_first_email_and_approves_it_from_the_review_list(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    from crm.models import Touch
    from crm.outreach.enrollment import enroll
    from crm.outreach.personalise import set_needs_review
    from tests.outreach.factories import make_mailbox, make_prospects

    campaign = team["campaign"]
    make_mailbox(None)
    set_needs_review(campaign, True)
    prospect = make_prospects(campaign, team["target"], 1)[0]
    enroll([prospect], angle="resource replacement")
    db.session.commit()
    touch = db.session.query(Touch).filter_by(step=1).one()
    client.login(team["specialist"].email)
    review = f"/campaigns/{campaign.id}/review"
    assert "site0.example" in client.get(review).get_data(as_text=True)
    url = f"/touches/{touch.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "waiting for review" in page and "Hi Sam," in page  # rendered for the prospect
    refused = client.post_form(url, {"action": "save", "subject": "Hi", "body": "Hi {{ nope.x }}"})
    assert refused.status_code == 200 and 'id="body-error"' in refused.get_data(as_text=True)
    response = client.post_form(
        url, {"action": "save", "subject": "For you", "body": "Hello {{ contact.first_name }}!"}
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Hello Sam!" in page and "personalised for this prospect" in page
    client.post_form(review, {"action": "approve", "touch_id": str(touch.id)})
    db.session.refresh(touch)
    assert not touch.held_for_review and touch.body_override == "Hello {{ contact.first_name }}!"


def test_prospect_page_shows_its_timeline(client: Any, db: Any, team: dict[str, Any]) -> None:
    prospect = ProspectFactory(campaign=team["campaign"], domain="example.org")
    change_status(prospect, ProspectStatus.QUALIFIED)
    db.session.commit()
    client.login(team["specialist"].email)
    html = client.get(f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}").get_data(
        as_text=True
    )
    assert "example.org" in html
    assert "new → qualified" in html
