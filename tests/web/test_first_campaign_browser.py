"""A new manager's first campaign in Chromium, up to the first touches in the Outbox.

Everything happens in the browser as a new user does it: sign in, create the
campaign, add a target page, upload real-format exports, filter tier 1 and
dofollow, map target page and angle in one bulk pass, import contacts from a
CSV, enroll from the enroll page and read the scheduled touches in the Outbox.
Screenshots of each screen at 1366 and 390 px go to CRM_TEST_SCREENSHOTS when set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.models import Enrollment, Prospect, Touch, TouchState
from tests.conftest import PASSWORD
from tests.gap.mixed_exports import COMPETITORS, SITE
from tests.outreach.factories import make_mailbox

pytestmark = pytest.mark.browser

TIER1_DOFOLLOW = ["alpha.com", "beta.co.uk", "someone.blogspot.com"]
CONTACTS_CSV = """domain,email,first_name,last_name,role
alpha.com,ana@alpha.com,Ana,Silva,editor
beta.co.uk,ben@beta.co.uk,Ben,Jones,editor
someone.blogspot.com,sam@someone.blogspot.com,Sam,,author
"""


def shot(page: Any, name: str) -> None:
    """Write the page at 1366 and 390 px to CRM_TEST_SCREENSHOTS, when it is set."""
    folder = os.environ.get("CRM_TEST_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        path = Path(folder) / f"first-campaign-{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def create_campaign(page: Any, live_server: str) -> int:
    """Create the campaign of the mixed exports with one target page; return its id."""
    page.goto(f"{live_server}/campaigns/new")
    page.fill("input[name=name]", "Kanban links")
    page.fill("input[name=site]", SITE)
    page.fill("textarea[name=competitors]", "\n".join(COMPETITORS))
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Kanban links"
    found = re.search(r"/campaigns/(\d+)", page.url)
    assert found, page.url
    page.click("#targets summary")
    page.fill("#targets input[name=url]", f"https://{SITE}/guide")
    page.fill("#targets input[name=title]", "The kanban guide")
    page.fill("#targets input[name=pitch]", "It walks a team through its first kanban board.")
    page.click("#targets button[type=submit]:has-text('Add target page')")
    assert page.locator("#targets table tbody tr").count() == 1
    return int(found.group(1))


def gap_domains(page: Any) -> list[str]:
    return page.locator("table.gap-table tbody td:nth-child(2) > a").all_inner_texts()


def test_a_new_manager_goes_from_exports_to_scheduled_touches_in_the_browser(
    db: Any, team: dict[str, Any], exports: dict[str, Path], live_server: str, page: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    make_mailbox(None, name="Outreach", from_name="Ana Lopez")  # set up by the admin
    db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, team["manager"].email)
    campaign_id = create_campaign(page, live_server)
    shot(page, "campaign")

    # Real-format exports of the site and its four competitors, checked before they run.
    page.goto(f"{live_server}/campaigns/{campaign_id}/gap/import")
    page.set_input_files("#upload input[type=file]", [str(p) for p in exports.values()])
    page.click("#upload button[type=submit]")
    assert page.locator("article.import-file").count() == 5
    assert page.locator(".file-error").count() == 0
    shot(page, "import-check")
    page.click("#run-import button")
    assert page.locator("#import-state").inner_text() == "done"
    shot(page, "import-done")

    # Tier 1 and dofollow, then one bulk pass maps the target page and the angle.
    page.click("text=Open the gap")
    page.select_option("select[name=tier]", "1")
    page.click(".more-filters summary")
    page.check("input[name=dofollow]")
    page.click("#filters button[type=submit]")
    assert sorted(gap_domains(page)) == TIER1_DOFOLLOW
    page.check("#select-all")
    page.select_option("#bulk-action", "map_target_angle")
    page.select_option("#bulk select[name=angle]", "roundup-inclusion")
    shot(page, "gap")
    page.click("#bulk button[type=submit]")
    assert "mapped to the target page with the angle" in page.locator(".flash-ok").inner_text()
    db.session.expire_all()
    mapped = db.session.scalars(
        select(Prospect).where(Prospect.campaign_id == campaign_id, Prospect.target_confirmed)
    ).all()
    assert sorted(p.domain for p in mapped) == TIER1_DOFOLLOW
    assert {p.angle for p in mapped} == {"roundup-inclusion"}

    # Contacts from a CSV, on the contacts page.
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(CONTACTS_CSV)
    page.goto(f"{live_server}/campaigns/{campaign_id}/contacts/import")
    page.set_input_files("input[name=file]", str(contacts))
    shot(page, "contacts-import")
    page.click("main button[type=submit]:has-text('Import')")
    assert "3 contacts added" in page.locator(".flash-ok").inner_text()

    # Enroll tier 1: the three mapped prospects with a contact are ready, the rest say why.
    page.goto(f"{live_server}/campaigns/{campaign_id}/enroll")
    with page.expect_navigation():
        page.select_option("select[name=tier]", "1")
    assert page.locator("#enroll-count").inner_text() == "3"
    shot(page, "enroll")
    page.click("#enroll-button")
    page.wait_for_url(re.compile(r"/outbox"))
    assert "3 enrolled; the first touches are scheduled" in page.locator(".flash-ok").inner_text()

    # The Outbox lists every planned touch of the three enrollments.
    db.session.expire_all()
    touches = db.session.scalars(
        select(Touch).join(Enrollment).join(Prospect).where(Prospect.campaign_id == campaign_id)
    ).all()
    assert len(touches) == 12 and {t.state for t in touches} == {TouchState.SCHEDULED}
    assert page.locator("main table tbody tr").count() == 12
    outbox = page.locator("main").inner_text()
    for domain in TIER1_DOFOLLOW:
        assert domain in outbox
    shot(page, "outbox")
