"""Mailboxes, contacts and suppressions."""

from __future__ import annotations

from typing import Any

from tests.web.routes import ADMIN_PAGE, PAGE, Expect

BUILD_ORDER = 10

ROUTES = {
    "mailboxes.index": ADMIN_PAGE,
    "mailboxes.new": ADMIN_PAGE,
    "mailboxes.edit": Expect(specialist=403, manager=403, args={"mailbox_id": "mailbox_id"}),
    "mailboxes.test": Expect(
        method="POST", specialist=403, manager=403, admin=200, args={"mailbox_id": "mailbox_id"}
    ),
    "mailboxes.pause": Expect(
        method="POST", specialist=403, manager=403, admin=302, args={"mailbox_id": "mailbox_id"}
    ),
    "mailboxes.resume": Expect(
        method="POST", specialist=403, manager=403, admin=302, args={"mailbox_id": "mailbox_id"}
    ),
    # An empty form is sent back with its errors.
    "contacts.add": Expect(
        method="POST", specialist=422, manager=422, admin=422, args={"prospect_id": "prospect_id"}
    ),
    "contacts.edit": Expect(args={"prospect_id": "prospect_id", "contact_id": "contact_id"}),
    "contacts.delete": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"prospect_id": "prospect_id", "contact_id": "contact_id"},
    ),
    "contacts.import_csv": PAGE,
    # No kept upload: back to the upload form.
    "contacts.import_mapped": Expect(method="POST", specialist=302, manager=302, admin=302),
    "contacts.suppressions": PAGE,
    "contacts.unsuppress": Expect(
        method="POST",
        specialist=403,
        manager=302,
        admin=302,
        args={"suppression_id": "suppression_id"},
    ),
}


def build_world(world: dict[str, Any]) -> None:
    from crm.core.suppression import suppress
    from crm.extensions import db
    from crm.models import Prospect
    from tests.factories import ContactFactory
    from tests.outreach.factories import MailboxFactory

    world["mailbox_id"] = MailboxFactory().id
    prospect = db.session.get(Prospect, world["prospect_id"])
    world["contact_id"] = ContactFactory(prospect=prospect).id
    world["suppression_id"] = suppress("blocked@example.com").id
    db.session.commit()
