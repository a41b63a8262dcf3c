"""Model factories for the foundation models."""

from __future__ import annotations

from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from crm.extensions import db
from crm.models import (
    Campaign,
    Competitor,
    Contact,
    Evidence,
    Prospect,
    Role,
    Site,
    TargetCategory,
    TargetPage,
    User,
)

PASSWORD = "correct-horse-battery"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@linkgap.example")
    name = factory.Faker("name")
    role = Role.SPECIALIST
    password_hash = ""

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kw: Any) -> None:
        # pbkdf2 with few rounds keeps tests fast; the app itself uses scrypt.
        from werkzeug.security import generate_password_hash

        obj.password_hash = generate_password_hash(extracted or PASSWORD, "pbkdf2:sha256:1000")

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        if isinstance(kwargs.get("role"), str):
            kwargs["role"] = Role(kwargs["role"])
        return kwargs


class SiteFactory(BaseFactory):
    class Meta:
        model = Site
        sqlalchemy_get_or_create = ("domain",)

    domain = "sample-site.example"


class CampaignFactory(BaseFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    site = factory.SubFactory(SiteFactory)

    @factory.post_generation
    def competitors(obj: Campaign, create: bool, extracted: list[str] | None, **kw: Any) -> None:
        domains = extracted or ["rival-a.com", "rival-b.com", "rival-c.com", "toolreview.example"]
        obj.competitors = [Competitor(domain=d) for d in domains]

    @factory.post_generation
    def members(obj: Campaign, create: bool, extracted: list[User] | None, **kw: Any) -> None:
        obj.members = list(extracted or [])


class TargetPageFactory(BaseFactory):
    class Meta:
        model = TargetPage

    campaign = factory.SubFactory(CampaignFactory)
    url = factory.Sequence(lambda n: f"https://sample-site.example/guide-{n}")
    title = factory.Sequence(lambda n: f"Guide {n}")
    category = TargetCategory.GUIDE
    topics = "kanban,project management"


class ProspectFactory(BaseFactory):
    class Meta:
        model = Prospect

    campaign = factory.SubFactory(CampaignFactory)
    domain = factory.Sequence(lambda n: f"prospect{n}.example.com")


class ContactFactory(BaseFactory):
    class Meta:
        model = Contact

    prospect = factory.SubFactory(ProspectFactory)
    email = factory.Sequence(lambda n: f"editor{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class EvidenceFactory(BaseFactory):
    """A referring page of a prospect linking to a competitor (give `prospect_id`)."""

    class Meta:
        model = Evidence

    site = "rival-a.com"
    page_url = factory.Sequence(lambda n: f"https://example.com/best-gantt-templates-{n}")
    title = "The 12 best Gantt templates"
    rel = "dofollow"
