"""Fixtures of the reply-tracking tests: an SMTP server that takes the Dovecot account's login."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.dovecot import DovecotAccount
from tests.fixtures.smtp import SmtpTestServer


@pytest.fixture
def smtp(dovecot: DovecotAccount) -> Iterator[SmtpTestServer]:
    """A local SMTP server accepting the same login as the mailbox's IMAP account."""
    with SmtpTestServer(auth=(dovecot.username, dovecot.password)) as server:
        yield server
