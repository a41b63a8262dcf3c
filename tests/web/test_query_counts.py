"""No N+1 queries: each main page runs a bounded number of SQL statements with 1,000 prospects.

The demo workspace (its gap, sixteen weeks of outreach, replies and won links) is
grown to 1,000 prospects, each added one with a contact, and every main page is
requested as the demo's manager. A page whose statement count grows with its rows
breaks its bound here long before a user feels it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from crm.demo import DEMO_CAMPAIGN, DEMO_TEAM, seed_demo_workspace
from crm.models import Campaign, Contact, Prospect, utcnow

pytestmark = pytest.mark.postgres
PROSPECTS = 1000
# Statements per page, measured; a page over its bound has a query per row somewhere.
BOUNDS = {
    "/": 6,
    "/campaigns": 9,
    "/campaigns/{cid}": 14,
    "/campaigns/{cid}/gap": 13,
    "/prospects": 9,
    "/inbox": 16,
    "/outbox": 13,
    "/links": 22,
    "/reports": 36,
    "/demo/mail": 5,
}


@pytest.fixture
def big_demo(db: Any) -> Iterator[int]:
    seed_demo_workspace()
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
    have = db.session.scalar(select(func.count()).select_from(Prospect))
    now = utcnow()
    rows = [
        {"campaign_id": campaign.id, "domain": f"extra-{n}.example", "source": "test",
         "status_changed_at": now}
        for n in range(PROSPECTS - have)
    ]  # fmt: skip
    db.session.execute(insert(Prospect), rows)
    added = db.session.scalars(select(Prospect.id).where(Prospect.source == "test")).all()
    db.session.execute(
        insert(Contact),
        [{"prospect_id": pid, "email": f"ed@extra-{n}.example", "source": "test"}
         for n, pid in enumerate(added)],
    )  # fmt: skip
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Prospect)) == PROSPECTS
    yield campaign.id


@pytest.mark.parametrize("path", list(BOUNDS))
def test_each_main_page_runs_a_bounded_number_of_statements(
    client: Any, db: Any, big_demo: int, path: str
) -> None:
    email, _name, _role, password = DEMO_TEAM[0]
    client.login(email, password)
    url = path.format(cid=big_demo)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code in (200, 302, 404), (url, response.status_code)
    repeated = Counter(statements).most_common(3)
    assert len(statements) <= BOUNDS[path], (url, len(statements), repeated)
