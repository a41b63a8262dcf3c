"""The weekly digest: its text from the dashboard's numbers, queued once a week per manager."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from crm.reports.dashboard import build_dashboard
from crm.reports.digest import digest_message
from crm.reports.digest_service import queue_weekly_digests, set_subscription
from crm.reports.params import ReportScope
from tests.reports.dataset import build_dataset

# Monday 2026-10-12: the digest about the week of 2026-10-05.
MONDAY = datetime(2026, 10, 12, 7, 0, tzinfo=UTC)


def test_digest_text_carries_the_dashboards_numbers(db: Any) -> None:
    data = build_dataset()
    board = build_dashboard(ReportScope((data.campaign.id,)), MONDAY.date(), 10)
    subject, body = digest_message(board, date(2026, 10, 12), "http://crm.example/reports")
    assert subject == "Linkgap weekly, 2026-10-05: 0 links placed, 2 replies"
    assert "The week of 2026-10-05 to 2026-10-11" in body
    assert "5 touches sent, 2 human replies, 0 links placed." in body
    assert "Reply rate: 60.0% (3 of 5, 95% " in body
    assert "Placement rate: 50.0% (2 of 4, 95% " in body
    assert "No angle has enough contacted prospects to rank yet." in body
    assert "http://crm.example/reports" in body


def test_each_manager_gets_one_digest_a_week_from_their_mailbox(db: Any) -> None:
    data = build_dataset()
    set_subscription(data.morgan, data.ana_box, True)
    calls: list[dict[str, Any]] = []
    counts = queue_weekly_digests(MONDAY, queue=lambda **kw: calls.append(kw))
    assert counts == {"queued": 1, "skipped": 0}
    [sent] = calls
    assert (sent["mailbox"], sent["to_email"], sent["prospect"]) == (
        data.ana_box, "morgan@linkgap.example", None,
    )  # fmt: skip
    assert sent["subject"].startswith("Linkgap weekly, 2026-10-05")
    later_that_week = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    assert queue_weekly_digests(later_that_week, queue=lambda **kw: calls.append(kw))["queued"] == 0
    next_week = datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    assert queue_weekly_digests(next_week, queue=lambda **kw: calls.append(kw))["queued"] == 1


def test_only_managers_opt_in_and_they_choose_a_mailbox(db: Any) -> None:
    from crm.core.errors import UserError

    data = build_dataset()
    with pytest.raises(UserError, match="for managers"):
        set_subscription(data.sam, data.ana_box, True)
    with pytest.raises(UserError, match=r"^Mailbox: choose"):
        set_subscription(data.morgan, None, True)


def test_the_digest_page_opts_in_and_previews(client: Any, db: Any) -> None:
    data = build_dataset()
    client.login(data.morgan.email)
    page = client.get("/reports/digest").get_data(as_text=True)
    assert "Preview with today" in page and "Reply rate: 60.0%" in page
    response = client.post_form(
        "/reports/digest", {"enabled": "y", "mailbox": str(data.ana_box.id)}
    )
    assert response.status_code == 302
    from crm.reports.digest_service import subscription_of

    found = subscription_of(data.morgan)
    assert found is not None and found.mailbox_id == data.ana_box.id
    missing = client.post_form("/reports/digest", {"enabled": "y", "mailbox": ""})
    assert missing.status_code == 400
    assert "Mailbox: choose the mailbox" in missing.get_data(as_text=True)
    assert (
        client.post_form("/reports/digest", {"enabled": "y", "mailbox": "999999"}).status_code
        == 404
    )
    client.post_form("/reports/digest", {})
    assert subscription_of(data.morgan) is None


def test_specialists_have_no_digest_page(client: Any, db: Any) -> None:
    data = build_dataset()
    client.login(data.sam.email)
    assert client.get("/reports/digest").status_code == 403


def test_the_worker_job_queues_the_digest_and_the_send_pass_delivers_it_once(
    app: Any, db: Any, smtp_server_factory: Any
) -> None:
    from crm.jobs import jobs_for
    from tests.factories import UserFactory
    from tests.outreach.factories import SMTP_LOGIN, make_mailbox, send_pass

    server = smtp_server_factory(auth=SMTP_LOGIN)
    mailbox = make_mailbox(server)
    manager = UserFactory(role="manager", email="morgan@linkgap.example")
    set_subscription(manager, mailbox, True)
    db.session.commit()

    (job,) = [j for j in jobs_for({}) if j.name == "weekly-digest"]
    assert job.load()() == {"queued": 1, "skipped": 0}
    assert job.load()() == {"queued": 0, "skipped": 0}  # once a week
    send_pass(app)
    send_pass(app)

    digests = [m for m in server.messages if m.rcpt_tos == ["morgan@linkgap.example"]]
    assert len(digests) == 1
    assert str(digests[0].message["Subject"]).startswith("Linkgap weekly, ")
