"""Enrollment, the outbox and touch actions."""

from __future__ import annotations

from typing import Any

from tests.web.routes import PAGE, Expect

BUILD_ORDER = 20

ROUTES = {
    "outbox.scheduled": PAGE,
    "outbox.enroll_many": PAGE,
    "outbox.enroll_prospect": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"prospect_id": "prospect_id"}
    ),
    "outbox.enrollment_action": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"enrollment_id": "enrollment_id", "action": "pause_action"},
    ),
    "outbox.touch_action": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"touch_id": "touch_id", "action": "cancel_action"},
    ),
}


def build_world(world: dict[str, Any]) -> None:
    from crm.extensions import db
    from crm.models import Contact, Evidence, Prospect
    from crm.outreach.enrollment import enroll
    from tests.outreach.factories import MailboxFactory

    prospect = db.session.get(Prospect, world["prospect_id"])
    contact = db.session.get(Contact, world["contact_id"])
    mailbox = db.session.get(MailboxFactory._meta.model, world["mailbox_id"])
    prospect.target_page_id = world["target"]
    db.session.add(
        Evidence(
            prospect_id=prospect.id,
            site="rival-a.com",
            page_url=f"https://{prospect.domain}/tools",
            title="Best tools",
        )
    )
    result = enroll([prospect], angle="broken-link", contacts=[contact], mailbox=mailbox)
    assert result.enrolled, result.skipped
    enrollment = result.enrolled[0]
    world["enrollment_id"] = enrollment.id
    world["touch_id"] = enrollment.touches[-1].id
    world["pause_action"] = "pause"
    world["cancel_action"] = "cancel"
    db.session.commit()
