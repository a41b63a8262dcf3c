"""The nav: its areas, the current one marked, and the unread count in one query per page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event

from crm.models import Notification, utcnow
from crm.replies.notifications import unread_notifications

pytestmark = pytest.mark.postgres


def test_the_nav_counts_what_the_inbox_calls_unread(
    db: Any, client: Any, team: dict[str, Any]
) -> None:
    me, other = team["specialist"], team["manager"]
    db.session.add_all([
        Notification(user_id=me.id, text="one"),
        Notification(user_id=me.id, text="two"),
        Notification(user_id=me.id, text="read", read_at=utcnow()),
        Notification(user_id=other.id, text="not mine"),
    ])  # fmt: skip
    db.session.commit()
    client.login(me.email)
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = client.get("/campaigns").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    shown = re.search(
        r'id="nav-notifications"[^>]*>Notifications <span class="badge bad">(\d+)<', page
    )
    assert shown is not None and int(shown.group(1)) == unread_notifications(me) == 2
    assert sum("FROM notifications" in s for s in statements) == 1


def test_the_nav_links_every_area_and_marks_the_current_one(
    client: Any, team: dict[str, Any]
) -> None:
    client.login(team["manager"].email)
    page = client.get(f"/campaigns/{team['campaign'].id}/gap").get_data(as_text=True)
    start = page.index('<ul class="mainnav"')
    nav = page[start : page.index("</ul>", start)]
    assert re.findall(r'<a href="([^"]+)"', nav) == [
        "/campaigns", "/prospects", "/sequences", "/inbox", "/links", "/reports", "/settings"
    ]  # fmt: skip
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == []  # the gap is no nav area
    page = client.get("/campaigns").get_data(as_text=True)
    assert re.findall(r'aria-current="page">([^<]+)<', page) == ["Campaigns"]
