"""Links: the Links page, logging a link, a link's checks, thresholds, unlinked mentions.

Object-level cases: a link, a check, a prospect or a reply of another campaign is never
reachable through this campaign's URLs (tests/web/test_links.py covers them one by one).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.web.routes import MANAGER_PAGE, PAGE, Expect

BUILD_ORDER = 60  # after inbox's world: logging from a reply uses its message

_LINK = {"link_id": "won_link_id"}
ROUTES = {
    "links.index": PAGE,
    "links.export_csv": PAGE,
    "links.new": PAGE,
    "links.preview": PAGE,
    "links.show": Expect(args=_LINK),
    "links.edit": Expect(args=_LINK),
    "links.delete": Expect(method="POST", specialist=403, manager=302, admin=302, args=_LINK),
    # No check runs here: the matrix uses a link whose page needs no network (refused).
    "links.check_now": Expect(method="POST", specialist=302, manager=302, admin=302, args=_LINK),
    "links.check_page": Expect(args={**_LINK, "check_id": "link_check_id"}),
    "links.dismiss_task": Expect(method="POST", specialist=302, manager=302, admin=302, args=_LINK),
    # The matrix's link has no open task: back to the link saying so.
    "links.send_follow_up": Expect(
        method="POST", specialist=302, manager=302, admin=302, args=_LINK
    ),
    "links.settings": MANAGER_PAGE,
    "links.check_mentions": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"prospect_id": "mention_prospect_id"},
    ),
    # No domains typed: back to the Links page saying so.
    "links.check_mentions_of": Expect(method="POST", specialist=302, manager=302, admin=302),
    "links.use_mention_angle": Expect(
        method="POST",
        specialist=302,
        manager=302,
        admin=302,
        args={"prospect_id": "mention_prospect_id"},
    ),
}


def build_world(world: dict[str, Any]) -> None:
    from crm.extensions import db
    from crm.models import (
        AnchorType,
        CheckResult,
        Evidence,
        LinkCheck,
        LinkState,
        WonLink,
    )
    from tests.factories import ProspectFactory

    campaign = world["campaign"]
    prospect = ProspectFactory(campaign=campaign, domain="matrix-blog.example")
    # Its page is on a loopback address with the private switch off: checks are refused
    # before any connection, so the matrix never touches the network.
    link = WonLink(
        campaign_id=campaign.id, prospect=prospect, source_url="http://127.0.0.1:9/post",
        target_url="https://sample-site.example/guide", anchor="guide",
        anchor_type=AnchorType.GENERIC,
        placed_on=date(2026, 1, 5), state=LinkState.UNCHECKED,
    )  # fmt: skip
    db.session.add(link)
    db.session.flush()
    check = LinkCheck(won_link_id=link.id, result=CheckResult.INCONCLUSIVE, reason="HTTP 403",
                      state_after=LinkState.INCONCLUSIVE)  # fmt: skip
    mention_prospect = ProspectFactory(campaign=campaign, domain="127.0.0.1")
    db.session.add_all([check, Evidence(prospect_id=mention_prospect.id, site="rival-a.com",
                                        page_url="http://127.0.0.1:9/page")])  # fmt: skip
    db.session.commit()
    world.update(won_link_id=link.id, link_check_id=check.id,
                 mention_prospect_id=mention_prospect.id)  # fmt: skip
