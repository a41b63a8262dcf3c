"""The failure paths a new user meets in the journey, in Chromium: a broken export and a
template that needs a merge field a contact lacks. Each says what is wrong, where, and
loses nothing; no traceback reaches the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.gap.sample_exports import SampleDomain, semrush_refdomains_bytes
from crm.models import Enrollment, Prospect
from tests.conftest import PASSWORD
from tests.factories import ContactFactory, EvidenceFactory, ProspectFactory
from tests.outreach.factories import make_mailbox

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def no_traceback(page: Any) -> None:
    text = page.content()
    assert "Traceback" not in text and "Internal Server Error" not in text


def test_a_broken_export_names_file_line_and_column_and_imports_nothing(
    db: Any, team: dict[str, Any], live_server: str, page: Any, tmp_path: Path
) -> None:
    data = semrush_refdomains_bytes(
        [SampleDomain("good.example.org", authority=40, backlinks=2),
         SampleDomain("bad.example.org", authority=41, backlinks=3)]
    )  # fmt: skip
    lines = data.decode().splitlines(keepends=True)
    lines[2] = lines[2].replace("41,", "n/a,", 1)  # line 3: the authority is not a number
    broken = tmp_path / "rival-b.com-backlinks_refdomains.csv"
    broken.write_text("".join(lines))
    campaign = team["campaign"]
    sign_in(page, live_server, team["specialist"].email)

    page.goto(f"{live_server}/campaigns/{campaign.id}/gap/import")
    page.set_input_files("#upload input[type=file]", str(broken))
    page.click("#upload button[type=submit]")
    page.click("#run-import button")

    assert page.locator("#import-state").inner_text() == "failed"
    error = page.locator("#import-error").inner_text()
    assert "Nothing was imported" in error
    assert broken.name in error and "line 3" in error and "Domain ascore" in error, error
    assert broken.name in page.locator(".file-error").inner_text()
    no_traceback(page)
    db.session.expire_all()
    count = select(func.count()).select_from(Prospect).where(Prospect.campaign_id == campaign.id)
    assert db.session.scalar(count) == 0


def test_a_step_needing_a_field_the_contact_lacks_blocks_that_enrollment_and_names_it(
    db: Any, team: dict[str, Any], live_server: str, page: Any
) -> None:
    campaign = team["campaign"]
    make_mailbox(None)
    prospect = ProspectFactory(campaign=campaign, domain="alpha.com", angle="roundup-inclusion",
                               target_page=team["target"], target_confirmed=True)  # fmt: skip
    EvidenceFactory(prospect_id=prospect.id, page_url="https://alpha.com/best-kanban-tools/")
    ContactFactory(prospect=prospect, email="editor@alpha.com", first_name="", last_name="")
    db.session.commit()
    sign_in(page, live_server, team["manager"].email)

    # The editor refuses a merge field that does not exist, next to the step, and saves nothing.
    page.goto(f"{live_server}/sequences/roundup-inclusion")
    body = page.locator("textarea[name='steps-0-body']")
    original = body.input_value()
    body.fill("Hi {{ contact.nickname }},\n\n" + original)
    page.click("button[name=action][value=save]")
    assert 'unknown merge field "contact.nickname"' in page.locator("main").inner_text()
    no_traceback(page)

    # A real field that this contact lacks is saved, and blocks the enrollment at enroll time.
    page.goto(f"{live_server}/sequences/roundup-inclusion")
    page.locator("textarea[name='steps-0-body']").fill(
        "Hi {{ contact.first_name }},\n\n" + original
    )
    page.click("button[name=action][value=save]")
    assert "saved" in page.locator(".flash-ok").inner_text()

    page.goto(f"{live_server}/campaigns/{campaign.id}/enroll?prospect_id={prospect.id}")
    page.click("#enroll-button")
    page.wait_for_url(lambda url: "/enroll" in url or "/outbox" in url)
    warning = page.locator("main").inner_text()
    skipped = (
        'Skipped editor@alpha.com: step 1: body line 1: missing merge field "contact.first_name"'
    )
    assert skipped in warning, warning
    assert "Nothing scheduled" in warning
    no_traceback(page)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
