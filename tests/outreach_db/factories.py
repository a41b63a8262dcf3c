"""Factories for outreach models."""

from __future__ import annotations

import factory

from crm.models import Mailbox, Security
from tests.factories import BaseFactory


class MailboxFactory(BaseFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"mailbox-{n}")
    from_email = factory.Sequence(lambda n: f"outreach{n}@sample-site.example")
    from_name = "Ana from Sample Site"
    username = factory.SelfAttribute("from_email")
    password_encrypted = b"not-a-real-token"
    smtp_host = "127.0.0.1"
    smtp_port = 2525
    smtp_security = Security.NONE
    imap_host = "127.0.0.1"
    imap_port = 1143
    imap_security = Security.NONE
    timezone = "UTC"
