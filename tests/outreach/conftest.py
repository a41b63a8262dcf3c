"""Fixtures shared by the sending tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import SMTP_LOGIN


@pytest.fixture
def server(smtp_server_factory: Any) -> SmtpTestServer:
    """A real SMTP server on 127.0.0.1 that wants the demo mailbox's login."""
    server: SmtpTestServer = smtp_server_factory(auth=SMTP_LOGIN)
    return server
