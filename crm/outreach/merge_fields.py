"""The merge fields outreach templates may use, with examples for previews."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MergeField:
    """A value a template may use, e.g. ``{{ contact.first_name }}``."""

    path: str
    description: str
    example: str

    @property
    def root(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.path.split(".", 1)[1]


MERGE_FIELDS: tuple[MergeField, ...] = (
    MergeField("contact.first_name", "the contact's first name", "Sarah"),
    MergeField("contact.last_name", "the contact's last name", "Lee"),
    MergeField("contact.name", "the contact's full name (first + last if not set)", "Sarah Lee"),
    MergeField("contact.email", "the contact's email address", "sarah@pmtoolsreview.com"),
    MergeField("contact.role", "the contact's role", "Editor"),
    MergeField("prospect.domain", "the prospect's referring domain", "pmtoolsreview.com"),
    MergeField(
        "prospect.evidence_url",
        "the prospect's page that links to a competitor",
        "https://pmtoolsreview.com/best-gantt-chart-templates",
    ),
    MergeField(
        "prospect.evidence_title",
        "the title of that page",
        "The 12 Best Gantt Chart Templates for 2026",
    ),
    MergeField(
        "prospect.competitor",
        "the competitor that page links to",
        "rival-planner.com",
    ),
    MergeField("prospect.link_type", "what kind of page it is (DESIGN §3)", "resource page"),
    MergeField(
        "target.url",
        "our page pitched to them",
        "https://example-planner.com/templates/gantt-chart",
    ),
    MergeField(
        "target.title", "the title of our page", "Free Gantt Chart Template (Excel & Sheets)"
    ),
    MergeField(
        "target.pitch",
        "one or two sentences on what our page adds (set on the target page; optional)",
        "It's a free template for Excel and Google Sheets with dependencies and "
        "milestones already set up, so readers can plan a project in minutes.",
    ),
    MergeField("sender.name", "the sender's name", "Alex Morgan"),
    MergeField("sender.email", "the sender's address", "alex@example-planner.com"),
    MergeField("campaign.name", "the campaign's name", "Gantt templates Q4"),
    MergeField("campaign.site", "our site's domain", "example-planner.com"),
)

MERGE_ROOTS: tuple[str, ...] = ("contact", "prospect", "target", "sender", "campaign")
FIELDS_BY_ROOT: dict[str, frozenset[str]] = {
    root: frozenset(f.name for f in MERGE_FIELDS if f.root == root) for root in MERGE_ROOTS
}
ALL_PATHS: list[str] = [f.path for f in MERGE_FIELDS]

# The values of the preview in the editor and of tests: one realistic prospect.
SAMPLE_CONTEXT: dict[str, dict[str, str]] = {
    root: {f.name: f.example for f in MERGE_FIELDS if f.root == root} for root in MERGE_ROOTS
}
