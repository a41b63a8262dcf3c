"""A demo workspace for the first `make run`, so a new user lands in something real.

Areas extend the demo by appending a step to DEMO_STEPS; each step receives the
demo campaign and only flushes.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from crm.core.campaigns import add_target_page, create_campaign
from crm.core.users import create_user
from crm.demo.mailbox import add_demo_mailbox
from crm.extensions import db
from crm.gap.demo import import_demo_gap
from crm.models import Campaign, Role, User
from crm.reports.demo import add_demo_outreach_history, add_demo_rankings

DEMO_LOGIN = ("admin@demo.linkgap.example", "linkgap-demo-admin")
DEMO_TEAM = [
    ("manager@demo.linkgap.example", "Morgan Manager", Role.MANAGER, "linkgap-demo-manager"),
    (
        "specialist@demo.linkgap.example",
        "Sam Specialist",
        Role.SPECIALIST,
        "linkgap-demo-specialist",
    ),
]
DEMO_CAMPAIGN = "Sample Site · project tools"
DEMO_SITE = "sample-site.example"
DEMO_COMPETITORS = ["toolreview.example", "rival-a.com", "rival-b.com", "rival-c.com"]
DEMO_TARGETS = [
    (
        "https://sample-site.example/kanban-guide",
        "The complete guide to kanban boards",
        "guide",
        ["kanban", "project management", "agile"],
        "It walks through setting up a board step by step, with 12 free templates.",
    ),
    (
        "https://sample-site.example/best-project-tools",
        "21 best project management tools",
        "list",
        ["project management", "tools", "software"],
        "We tested every tool on the same project and list real prices.",
    ),
    (
        "https://sample-site.example/remote-work-survey-2026",
        "Remote work survey 2026: the data",
        "data",
        ["remote work", "survey", "statistics"],
        "It is original data from 1,200 remote teams, free to cite.",
    ),
    (
        "https://sample-site.example/trello-vs-asana",
        "Trello vs Asana, tested",
        "comparison",
        ["trello", "asana", "comparison"],
        "It compares both on the same sprint, with screenshots and costs.",
    ),
    (
        "https://sample-site.example/sprint-calculator",
        "Sprint capacity calculator",
        "tool",
        ["sprint", "capacity", "calculator"],
        "It is a free calculator that sizes a sprint from the team's availability.",
    ),
]

DemoStep = Callable[[Campaign], None]
DEMO_STEPS: list[DemoStep] = [
    import_demo_gap,
    add_demo_mailbox,
    add_demo_outreach_history,
    add_demo_rankings,
]


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role, email, password) of every demo login."""
    email, password = DEMO_LOGIN
    return [("admin", email, password)] + [(role.value, e, pw) for e, _name, role, pw in DEMO_TEAM]


def seed_demo_workspace(*, force: bool = False) -> bool:
    """Create the demo team and campaign when the database has no users; flush only."""
    if not force and db.session.scalar(select(func.count()).select_from(User)):
        return False
    email, password = DEMO_LOGIN
    create_user(email, Role.ADMIN, password, "Demo Admin")
    team = [create_user(e, role, pw, name) for e, name, role, pw in DEMO_TEAM]
    campaign = create_campaign(DEMO_CAMPAIGN, DEMO_SITE, DEMO_COMPETITORS, members=team)
    for url, title, category, keywords, pitch in DEMO_TARGETS:
        add_target_page(
            campaign, url, title=title, category=category, keywords=keywords, pitch=pitch
        )
    for step in DEMO_STEPS:
        step(campaign)
    db.session.flush()
    return True
