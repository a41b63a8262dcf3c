"""A prospect's own page: given by hand, checked, replacing an earlier one, first for templates."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.errors import UserError
from crm.core.prospects import listed_page, prospect_json, prospect_page, set_prospect_page
from tests.factories import EvidenceFactory, ProspectFactory

pytestmark = pytest.mark.postgres


def test_a_page_given_by_hand_wins_over_the_exports_evidence(db: Any, team: dict[str, Any]) -> None:
    p = ProspectFactory(campaign=team["campaign"], domain="blog.example")
    db.session.flush()
    EvidenceFactory(prospect_id=p.id, site="rival-a.com", page_url="https://blog.example/old")
    db.session.flush()
    assert prospect_page(p) == "https://blog.example/old"
    set_prospect_page(p, "blog.example/resources", actor=team["specialist"])
    set_prospect_page(p, "https://sub.blog.example/tools")
    db.session.commit()
    assert listed_page(p) == "https://sub.blog.example/tools"
    assert prospect_json(p)["page"] == "https://sub.blog.example/tools"
    assert [t.summary for t in p.touchpoints][-1] == "Page set to https://sub.blog.example/tools"


@pytest.mark.parametrize(
    ("raw", "why"),
    [("https://elsewhere.example/x", "that page is on elsewhere.example, not on blog.example"),
     ("ftp://blog.example/x", "is not a web page's URL"), ("  ", "give the page's URL")],
)  # fmt: skip
def test_a_page_off_the_prospects_domain_is_refused(
    db: Any, team: dict[str, Any], raw: str, why: str
) -> None:
    p = ProspectFactory(campaign=team["campaign"], domain="blog.example")
    db.session.flush()
    with pytest.raises(UserError, match=why):
        set_prospect_page(p, raw)
    assert listed_page(p) is None
