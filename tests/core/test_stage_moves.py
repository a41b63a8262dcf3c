"""Moving prospects between deal stages by hand, on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.errors import UserError
from crm.core.stage_moves import last_stage_note, move_prospects
from crm.models import EnrollmentState, ProspectStatus, TouchpointKind, TouchState
from crm.outreach.enrollment import enroll
from tests.factories import ProspectFactory
from tests.outreach.factories import make_campaign, make_mailbox, make_prospects

pytestmark = pytest.mark.postgres


def test_moving_on_by_hand_logs_the_note_in_each_timeline(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    a = ProspectFactory(campaign=campaign, status=ProspectStatus.REPLIED)
    b = ProspectFactory(campaign=campaign, status=ProspectStatus.CONTACTED)
    db.session.commit()
    result = move_prospects(campaign, [a.id, b.id], "negotiating", note="wants a guest post",
                            actor=team["specialist"])  # fmt: skip
    db.session.commit()
    assert result.changed == 2
    for p in (a, b):
        db.session.refresh(p)
        assert p.status == ProspectStatus.NEGOTIATING
        entry = p.touchpoints[-1]
        assert entry.kind == TouchpointKind.STATUS_CHANGE
        assert entry.summary.endswith("→ negotiating: wants a guest post")
        assert entry.actor_id == team["specialist"].id
        assert last_stage_note(p) == "wants a guest post"


def test_closing_needs_a_reason(db: Any, team: dict[str, Any]) -> None:
    p = ProspectFactory(campaign=team["campaign"])
    db.session.commit()
    with pytest.raises(UserError, match="say why these prospects are not a fit"):
        move_prospects(team["campaign"], [p.id], "not-a-fit", note=" ")


def test_won_is_refused_by_hand_and_says_how_it_is_set(db: Any, team: dict[str, Any]) -> None:
    p = ProspectFactory(campaign=team["campaign"])
    db.session.commit()
    with pytest.raises(UserError, match="won is set by Linkgap when the won link is logged"):
        move_prospects(team["campaign"], [p.id], "won")


def test_prospects_that_cannot_move_are_counted_by_reason(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    won = ProspectFactory(campaign=campaign, status=ProspectStatus.WON)
    lost = ProspectFactory(campaign=campaign, status=ProspectStatus.LOST)
    fresh = ProspectFactory(campaign=campaign)
    elsewhere = ProspectFactory(campaign=team["other_campaign"])
    db.session.commit()
    result = move_prospects(campaign, [won.id, lost.id, fresh.id, elsewhere.id], "lost",
                            note="no budget")  # fmt: skip
    assert result.changed == 1
    assert result.skipped == {"the link is won": 1, "already lost": 1}
    db.session.refresh(elsewhere)
    assert elsewhere.status == ProspectStatus.NEW


def test_early_stages_go_through_the_gap_actions(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    p = ProspectFactory(campaign=campaign, status=ProspectStatus.NOT_A_FIT)
    q = ProspectFactory(campaign=campaign)
    db.session.commit()
    move_prospects(campaign, [q.id], "excluded", note="a directory")
    db.session.commit()
    db.session.refresh(q)
    assert q.status == ProspectStatus.EXCLUDED and q.excluded_note == "a directory"
    assert p.status == ProspectStatus.NOT_A_FIT


def test_closing_a_deal_stops_its_sequences(db: Any) -> None:
    campaign, target = make_campaign()
    make_mailbox(None)
    prospect = make_prospects(campaign, target, 1)[0]
    enrollment = enroll([prospect], angle="resource replacement").enrolled[0]
    db.session.commit()
    move_prospects(campaign, [prospect.id], "lost", note="went quiet")
    db.session.commit()
    db.session.refresh(enrollment)
    assert enrollment.state == EnrollmentState.STOPPED
    assert all(t.state == TouchState.CANCELLED for t in enrollment.touches)


def test_a_closed_deal_is_reopened_as_qualified_with_a_note(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    lost = ProspectFactory(campaign=campaign, status=ProspectStatus.LOST)
    fresh = ProspectFactory(campaign=campaign)
    db.session.commit()
    result = move_prospects(campaign, [lost.id, fresh.id], "qualified", note="new editor")
    db.session.commit()
    assert result.changed == 2
    db.session.refresh(lost)
    assert lost.status == ProspectStatus.QUALIFIED
    assert lost.touchpoints[-1].summary == "lost → qualified: new editor"
