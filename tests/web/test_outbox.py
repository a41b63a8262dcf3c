"""Enrolling from the prospect page and the campaign, and the outbox view."""

from __future__ import annotations

import re
from typing import Any

from crm.core.suppression import suppress
from crm.models import Enrollment, Evidence, ProspectStatus, TouchState
from tests.factories import ContactFactory, ProspectFactory
from tests.outreach.factories import MailboxFactory


def ready_prospect(db: Any, team: dict[str, Any], domain: str = "pmtoolsreview.com") -> Any:
    prospect = ProspectFactory(
        campaign=team["campaign"],
        domain=domain,
        tier=1,
        in_gap=True,
        status=ProspectStatus.QUALIFIED,
        target_page=team["target"],
        angle="broken-link",
    )
    ContactFactory(prospect=prospect, email=f"sarah@{domain}", first_name="Sarah")
    db.session.add(
        Evidence(
            prospect_id=prospect.id,
            site="rival-a.com",
            page_url=f"https://{domain}/best-tools",
            title="Best tools",
        )
    )
    return prospect


def test_specialist_enrolls_a_prospect_and_sees_its_touches(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    prospect = ready_prospect(db, team)
    db.session.commit()
    page = f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}"
    client.login(team["specialist"].email)
    contact_id = str(prospect.contacts[0].id)
    response = client.post_form(
        f"{page}/enroll", {"angle": "broken-link", "contact_id": contact_id}, page=page
    )
    assert response.status_code == 302
    enrollment = db.session.query(Enrollment).one()
    assert [t.step for t in enrollment.touches] == [1, 2, 3, 4]
    html = client.get(page).get_data(as_text=True)
    assert "broken link" in html and "scheduled" in html
    outbox = client.get("/outbox").get_data(as_text=True)
    assert "pmtoolsreview.com" in outbox


def test_stopping_from_the_outbox_cancels_the_unsent_touches(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    ready_prospect(db, team)
    db.session.commit()
    client.login(team["specialist"].email)
    campaign_id = team["campaign"].id
    response = client.post_form(
        f"/campaigns/{campaign_id}/enroll",
        {"tier": "1"},
        page=f"/campaigns/{campaign_id}/enroll?tier=1",
    )
    assert response.status_code == 302
    enrollment = db.session.query(Enrollment).one()
    client.post_form(f"/enrollments/{enrollment.id}/stop", {"next": "/outbox"}, page="/outbox")
    db.session.expire_all()
    assert {t.state for t in enrollment.touches} == {TouchState.CANCELLED}
    assert enrollment.stop_reason is not None and enrollment.stop_reason.value == "manual"


def test_bulk_enroll_reports_each_skipped_prospect_with_its_reason(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    ProspectFactory(campaign=team["campaign"], domain="nocontact.com", tier=1, in_gap=True)
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{team['campaign'].id}/enroll"
    response = client.post_form(url, {"tier": "1"}, page=url + "?tier=1", follow_redirects=True)
    assert "Skipped nocontact.com" in response.get_data(as_text=True)
    assert db.session.query(Enrollment).count() == 0


def test_the_enroll_page_counts_the_ready_rows_groups_the_rest_and_enrolls_the_chosen(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    ready = [ready_prospect(db, team, f"ready{i}.example") for i in range(2)]
    for i in range(3):
        ProspectFactory(campaign=team["campaign"], domain=f"bare{i}.example", tier=1, in_gap=True)
    barred = ready_prospect(db, team, "barred.example")
    db.session.flush()
    suppress(barred.contacts[0].email, "asked us to stop")
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{team['campaign'].id}/enroll"
    html = client.get(url + "?tier=1").get_data(as_text=True)
    assert "<strong>3</strong> have no contact — add contacts" in html
    assert "<strong>1</strong> has no contact that may be emailed" in html
    assert 'Enroll <span id="enroll-count">2</span> prospects' in html
    assert "<td>broken link</td>" in html and "broken-link</td>" not in html  # by label
    response = client.post_form(
        url, {"tier": "1", "rows": "chosen", "prospect_id": str(ready[1].id)}, page=url + "?tier=1"
    )
    assert response.status_code == 302
    assert [e.prospect.domain for e in db.session.query(Enrollment)] == ["ready1.example"]


def test_many_skipped_prospects_read_as_one_line_per_reason(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    for i in range(3):
        ProspectFactory(campaign=team["campaign"], domain=f"bare{i}.example", tier=1, in_gap=True)
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{team['campaign'].id}/enroll"
    response = client.post_form(url, {"tier": "1", "angle": "broken-link"}, page=url + "?tier=1",
                                follow_redirects=True)  # fmt: skip
    html = response.get_data(as_text=True)
    assert "3 skipped: no contact — add contacts" in html
    assert "Skipped bare0.example" not in html


def test_enrolling_without_a_chosen_mailbox_never_sends_from_another_teams(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    from crm.models.outreach import campaign_mailboxes

    theirs = MailboxFactory(name="their-team")
    db.session.execute(
        campaign_mailboxes.insert().values(
            campaign_id=team["other_campaign"].id, mailbox_id=theirs.id
        )
    )
    prospect = ready_prospect(db, team)
    db.session.commit()
    page = f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}"
    client.login(team["specialist"].email)
    client.post_form(f"{page}/enroll", {"angle": "broken-link"}, page=page)
    assert db.session.query(Enrollment).count() == 0
    shared = MailboxFactory(name="shared-pool")
    db.session.commit()
    client.post_form(f"{page}/enroll", {"angle": "broken-link"}, page=page)
    assert db.session.query(Enrollment).one().mailbox_id == shared.id


def _enrolled_first_touches(client: Any, db: Any, team: dict[str, Any], n: int) -> dict[str, Any]:
    """Enroll n ready prospects from their pages as a specialist; return {domain: first touch}."""
    MailboxFactory(name="outreach")
    prospects = [ready_prospect(db, team, f"site{i}.example") for i in range(n)]
    db.session.commit()
    client.login(team["specialist"].email)
    for prospect in prospects:
        page = f"/campaigns/{team['campaign'].id}/prospects/{prospect.id}"
        client.post_form(f"{page}/enroll", {"angle": "broken-link"}, page=page)
    return {
        e.prospect.domain: min(e.touches, key=lambda t: t.step)
        for e in db.session.query(Enrollment)
    }


def test_needs_attention_lists_failed_and_blocked_touches_not_those_waiting_for_spacing(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    firsts = _enrolled_first_touches(client, db, team, 3)
    firsts["site0.example"].last_error = "spacing between sends; next try 2026-12-07 09:00 UTC"
    firsts["site1.example"].last_error = 'blocked: missing merge field "contact.first_name"'
    firsts["site2.example"].state = TouchState.FAILED
    db.session.commit()
    html = client.get("/outbox?view=problems").get_data(as_text=True)
    assert "site1.example" in html and "site2.example" in html
    assert "site0.example" not in html


def test_the_needs_attention_badge_counts_what_the_list_shows(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    firsts = _enrolled_first_touches(client, db, team, 5)
    firsts["site0.example"].last_error = "spacing between sends; next try 2026-12-07 09:00 UTC"
    firsts["site1.example"].last_error = 'blocked: missing merge field "contact.first_name"'
    firsts["site2.example"].state = TouchState.RETRY_WAIT
    firsts["site3.example"].state = TouchState.UNCERTAIN
    firsts["site4.example"].state = TouchState.FAILED
    db.session.commit()
    html = client.get("/outbox?view=problems").get_data(as_text=True)
    listed = {f"site{i}.example" for i in range(5) if f"site{i}.example" in html}
    assert listed == {"site1.example", "site2.example", "site3.example", "site4.example"}
    assert '<span class="badge bad">4</span>' in html


def test_a_prospect_unticked_on_the_enroll_page_of_a_gap_selection_is_not_enrolled(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    chosen = [ready_prospect(db, team, f"ready{i}.example") for i in range(3)]
    db.session.commit()
    client.login(team["specialist"].email)
    table = f"/campaigns/{team['campaign'].id}/gap"
    ids = [str(p.id) for p in chosen]
    response = client.post_form(f"{table}/bulk", {"action": "enroll", "prospect_id": ids},
                                page=table)  # fmt: skip
    html = response.get_data(as_text=True)
    assert "<strong>3</strong> prospects, <strong>3</strong> ready" in html
    action = re.search(r'<form method="post" id="enroll-form" action="([^"]+)"', html)
    assert action is not None and "prospect_id" not in action.group(1)
    ticked = {"csrf_token": client.csrf_token(table), "rows": "chosen", "prospect_id": ids[:2]}
    assert client.post(action.group(1), data=ticked).status_code == 302
    enrolled = sorted(e.prospect.domain for e in db.session.query(Enrollment))
    assert enrolled == ["ready0.example", "ready1.example"]


def test_ready_prospects_past_the_listed_rows_are_sent_with_the_form_and_counted(
    client: Any, db: Any, team: dict[str, Any], monkeypatch: Any
) -> None:
    import crm.web.outbox

    monkeypatch.setattr(crm.web.outbox, "ENROLL_LISTED", 1)
    MailboxFactory(name="outreach")
    chosen = [ready_prospect(db, team, f"ready{i}.example") for i in range(3)]
    for score, prospect in enumerate(chosen, 1):
        prospect.score = score
    ProspectFactory(campaign=team["campaign"], domain="bare.example", tier=1, in_gap=True, score=0)
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{team['campaign'].id}/enroll"
    html = client.get(url + "?tier=1").get_data(as_text=True)
    ticks = re.findall(r'type="checkbox" name="prospect_id" value="(\d+)"', html)
    unlisted = re.findall(r'type="hidden" name="prospect_id" value="(\d+)"', html)
    assert len(ticks) == 1 and len(unlisted) == 2  # the bare one is not ready: not sent
    assert 'Enroll <span id="enroll-count">3</span> prospects' in html
    assert "the other 2 ready are enrolled with them" in html
    response = client.post_form(url, {"rows": "chosen", "tier": "1", "prospect_id": unlisted},
                                page=url + "?tier=1")  # fmt: skip
    assert response.status_code == 302
    enrolled = {e.prospect_id for e in db.session.query(Enrollment)}
    assert enrolled == {int(i) for i in unlisted} and len(enrolled) == 2
    assert {p.id for p in chosen} - enrolled == {int(ticks[0])}  # the unticked listed row


def test_a_form_naming_more_prospects_than_the_enroll_page_takes_reads_only_that_many(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    MailboxFactory(name="outreach")
    chosen = ready_prospect(db, team, "ready.example")
    db.session.commit()
    client.login(team["specialist"].email)
    url = f"/campaigns/{team['campaign'].id}/enroll"
    # More ids than a statement may bind (SQLite: 250,000): the read is bounded first.
    ids = [str(chosen.id)] + [str(i) for i in range(10**6, 10**6 + 300_000)]
    response = client.post_form(url, {"rows": "chosen", "prospect_id": ids}, page=url)
    assert response.status_code == 302
    assert [e.prospect_id for e in db.session.query(Enrollment)] == [chosen.id]
