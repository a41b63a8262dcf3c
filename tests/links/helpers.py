"""A won-links world: a campaign whose prospect `blog.example` is in an active sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crm.extensions import db
from crm.links.fetch import FetchSettings, PageFetcher
from crm.models import Campaign, Enrollment, Prospect, TargetPage, User
from tests.factories import UserFactory
from tests.fixtures.links import PageServer
from tests.outreach.factories import enroll_all, make_campaign, make_mailbox, make_prospects

HOSTS = ("blog.example", "www.blog.example", "news.blog.example", "other.example")
# App settings for link tests: private addresses allowed (the pages are on 127.0.0.1),
# no politeness delay, short timeouts.
LINK_SETTINGS: dict[str, Any] = {
    "LINKS_ALLOW_PRIVATE": "1",
    "LINKS_RESOLVE": {host: "127.0.0.1" for host in HOSTS},
    "LINKS_HOST_SPACING_SECONDS": 0,
    "LINKS_CONNECT_TIMEOUT_SECONDS": 2,
    "LINKS_READ_TIMEOUT_SECONDS": 1,
    "LINKS_TOTAL_TIMEOUT_SECONDS": 3,
}
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@dataclass
class LinkWorld:
    campaign: Campaign
    target: TargetPage
    prospect: Prospect
    user: User

    @property
    def target_url(self) -> str:
        return self.target.url

    def enrollments(self) -> list[Enrollment]:
        db.session.expire_all()
        return list(db.session.query(Enrollment).filter(Enrollment.prospect_id == self.prospect.id))


def make_link_world(domain: str = "blog.example", enroll: bool = True) -> LinkWorld:
    campaign, target = make_campaign("Gantt outreach")
    campaign.site.name = "Sample Site"
    target.topics = "gantt chart template,gantt chart"
    user = campaign.members[0]
    make_mailbox(None)
    (prospect,) = make_prospects(campaign, target, 1, prefix="x")
    prospect.domain = domain
    prospect.contacts[0].email = f"editor@{domain}"
    db.session.flush()
    if enroll:
        enroll_all([prospect], NOW)
    db.session.commit()
    return LinkWorld(campaign=campaign, target=target, prospect=prospect, user=user)


def page_with(target: str, anchor: str = "gantt chart template", rel: str = "") -> str:
    rel_attr = f' rel="{rel}"' if rel else ""
    return (
        "<!doctype html><html><head><title>Best Gantt templates</title></head><body>"
        f'<p>We tried many. <a href="{target}"{rel_attr}>{anchor}</a> is great.</p>'
        "</body></html>"
    )


def source(
    pages: PageServer, path: str = "/best-gantt-templates", host: str = "blog.example"
) -> str:
    return pages.url(path, host)


def fetcher() -> PageFetcher:
    return PageFetcher(FetchSettings.from_config(LINK_SETTINGS))


def another_user() -> User:
    return UserFactory(role="manager", email="boss@linkgap.example")
