"""The inbox: messages, outcomes, assignment, triage, notifications (inbox.index is in core)."""

from __future__ import annotations

from typing import Any

from tests.web.routes import PAGE, Expect

_MESSAGE = {"message_id": "inbound_id"}
ROUTES = {
    "inbox.show": Expect(args=_MESSAGE),
    "inbox.outcome": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args=_MESSAGE,
        data={"outcome": "positive"},
    ),
    # No prospect chosen: back to the message with a message saying so.
    "inbox.assign": Expect(method="POST", specialist=302, manager=302, admin=302, args=_MESSAGE),
    "inbox.dismiss_message": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"message_id": "triage_id"}
    ),
    # Queues the reply and goes back to the message.
    "inbox.reply": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args=_MESSAGE,
        data={"body": "Thanks!"},
    ),
    # Nothing to confirm for a triage reply: back to the message with a message saying so.
    "inbox.confirm": Expect(
        method="POST", specialist=302, manager=302, admin=302, args={"message_id": "triage_id"}
    ),
    "inbox.notifications": PAGE,
    # A notification is its owner's (the specialist's): anyone else gets 404.
    "inbox.open_notification": Expect(
        method="POST",
        specialist=302,
        manager=404,
        admin=404,
        args={"notification_id": "notification_id"},
    ),
    "inbox.read_all": Expect(method="POST", specialist=302, manager=302, admin=302),
}


def build_world(world: dict[str, Any]) -> None:
    from crm.extensions import db
    from crm.models import InboundKind, InboundMessage, Notification
    from crm.models.outreach import campaign_mailboxes
    from tests.factories import ProspectFactory
    from tests.outreach.factories import MailboxFactory

    mailbox = MailboxFactory()
    db.session.execute(
        campaign_mailboxes.insert().values(campaign_id=world["campaign"].id, mailbox_id=mailbox.id)
    )
    prospect = ProspectFactory(campaign=world["campaign"])
    reply = InboundMessage(
        mailbox_id=mailbox.id, message_id="<matrix-reply@example.com>",
        kind=InboundKind.HUMAN_REPLY,
        from_address="editor@example.com", subject="Re: hello", prospect_id=prospect.id,
        match_method="sender",
    )  # fmt: skip
    triage = InboundMessage(
        mailbox_id=mailbox.id, message_id="<matrix-triage@example.com>",
        kind=InboundKind.HUMAN_REPLY, from_address="who@unknown.example", subject="Re: hi",
    )  # fmt: skip
    db.session.add_all([reply, triage])
    db.session.flush()
    note = Notification(user_id=world["specialist"].id, text="Reply", link="/inbox")
    db.session.add(note)
    db.session.commit()
    world.update(inbound_id=reply.id, triage_id=triage.id, notification_id=note.id)
