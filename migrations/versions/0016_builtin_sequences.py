"""built-in angles and their default 4-touch sequences, created once by the migration

The seven angles of DESIGN §3 and a Day 1, 4, 9, 14 sequence for each, written
to the advice link builders agree on: name the exact page, say what our page
adds for their readers, stay under 150 words, make one ask; each follow-up is
short and adds one new point instead of "just bumping this". Follow-up
subjects are empty: the sender sends them as "Re: " + the first subject, in
the same thread.

Only ``prospect.domain``, ``target.url``, ``sender.name`` and (for angles
about a specific page of theirs) ``prospect.evidence_url`` are required; every
other field has a fallback, so a touch is blocked only when the email could
not be written honestly without it.

The data is frozen here: teams edit their sequences in the app, and a later
change to the shipped text is a new migration. Installations that created the
built-ins before this migration keep theirs (only missing angles are added).
The test database setup calls `insert_builtin_sequences` after emptying
PostgreSQL tables.

Revision ID: 0016_builtin_sequences
Revises: 0015_sign_in_failures
Create Date: 2026-12-06 18:00:00.000000

"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import crm.models.base

# revision identifiers, used by Alembic.
revision = "0016_builtin_sequences"
down_revision = "0015_sign_in_failures"
branch_labels = None
depends_on = None

# Day 1, 4, 9 and 14 of the sequence, as offsets from the first touch.
DEFAULT_STEP_OFFSETS_DAYS: tuple[int, ...] = (0, 3, 8, 13)


@dataclass(frozen=True)
class Angle:
    """One outreach angle: a stable slug, the label people read, a one-line hint."""

    slug: str
    label: str
    hint: str


BUILTIN_ANGLES: tuple[Angle, ...] = (
    Angle(
        "resource-replacement",
        "resource replacement",
        "Their page links to a competitor's (or an outdated) resource; offer ours instead "
        "or alongside it.",
    ),
    Angle(
        "coverage-gap",
        "coverage gap",
        "Their page covers the topic but misses something our page covers well.",
    ),
    Angle(
        "unlinked-mention",
        "unlinked mention",
        "They mention our brand or data without a link; ask them to add one.",
    ),
    Angle(
        "broken-link",
        "broken link",
        "Their page has a dead outbound link; point them at our working replacement.",
    ),
    Angle(
        "skyscraper",
        "skyscraper",
        "They link to a piece we have clearly outdone; show them the better one.",
    ),
    Angle(
        "guest-post",
        "guest post",
        "Offer an original article for their site that cites our page where it helps readers.",
    ),
    Angle(
        "roundup-inclusion",
        "roundup inclusion",
        "They publish a list or roundup; ask them to consider our page for it.",
    ),
)


@dataclass(frozen=True)
class StepTemplate:
    """One step of a sequence: its day offset and its subject and body templates."""

    offset_days: int
    subject: str
    body: str


_HI = 'Hi {{ contact.first_name|default("there") }},\n\n'
_BYE = "\n\nThanks,\n{{ sender.name }}"
_PAGE_TITLE = '{{ prospect.evidence_title|default("your page") }}'
# Inline expressions, not {% if %} blocks: a block tag at the end of a line
# also swallows its line break (trim_blocks).
_PITCH = (
    "{{ target.pitch if target.pitch is defined else "
    '"It covers " ~ target.title|default("the topic") ~ " in depth and is free to read." }}'
)


def _title_or(fallback: str) -> str:
    """Return a subject fragment: the quoted page title, else the fallback words."""
    return (
        '{% if prospect.evidence_title is defined %}"{{ prospect.evidence_title|truncate(60) }}"'
        f"{{% else %}}{fallback}{{% endif %}}"
    )


def _steps(first_subject: str, *bodies: str) -> tuple[StepTemplate, ...]:
    subjects = (first_subject,) + ("",) * (len(bodies) - 1)
    return tuple(
        StepTemplate(offset, subject, _HI + body.strip() + _BYE)
        for offset, subject, body in zip(DEFAULT_STEP_OFFSETS_DAYS, subjects, bodies, strict=True)
    )


_RESOURCE_REPLACEMENT = _steps(
    "A resource for " + _title_or("your readers"),
    f"""
I was reading {_PAGE_TITLE} ({{{{ prospect.evidence_url }}}}) and noticed you send readers to \
{{% if prospect.competitor is defined %}}{{{{ prospect.competitor }}}}{{% else %}}an outside \
resource{{% endif %}} for this.

We recently published {{{{ target.title|default("a guide on the same topic") }}}}: \
{{{{ target.url }}}}

{_PITCH}

Would you consider adding it to your page? It could sit next to the current link or replace it, \
whichever serves your readers better.""",
    """
Following up on my note about {{ prospect.evidence_url }}.

If it saves you time, I'm happy to suggest the exact sentence and spot where the link would fit, \
so it's a two-minute edit.""",
    """
One more thought: if {{ prospect.evidence_title|default("that page") }} isn't the right place, \
is there another page on {{ prospect.domain }} where {{ target.url }} would help your readers?""",
    """
I'll leave it here so I don't crowd your inbox. If you update the page later, the link is \
{{ target.url }}. Either way, thanks for the useful resource.""",
)

_COVERAGE_GAP = _steps(
    "A possible addition to " + _title_or("your article"),
    f"""
I read {_PAGE_TITLE} ({{{{ prospect.evidence_url }}}}). It covers the topic well, but one part \
readers often look for isn't there yet.

We wrote about exactly that part: {{{{ target.url }}}}

{_PITCH}

Would it be worth a link from your page, where that part would come up? Happy to point to the \
exact paragraph.""",
    """
Quick follow-up on {{ prospect.evidence_url }}.

A link to {{ target.url }} lets you cover that angle without writing a new section, and it stays \
current because we update it.""",
    """
If a link isn't possible, I'd be glad to write two or three sentences on the missing part that \
you could use on the page, with or without credit.""",
    """
Last note from me. If you revisit {{ prospect.evidence_title|default("the page") }} later, \
{{ target.url }} is there to use. Thanks for reading.""",
)

_UNLINKED_MENTION = _steps(
    "Thanks for mentioning {{ campaign.site }}",
    """
Thank you for mentioning {{ campaign.site }} in {{ prospect.evidence_title|default("your \
article") }} ({{ prospect.evidence_url }}). We appreciate it.

The mention doesn't link to us yet. Would you add a link to {{ target.url }}? Readers who want \
to check the details could then find the source in one click.""",
    """
Following up on the mention at {{ prospect.evidence_url }}.

The page I suggested, {{ target.url }}, is the one that matches what your article describes, \
so readers land on the right thing rather than our home page.""",
    """
If it helps, we'd be happy to return the favour and share your article with our audience once \
the link is in.""",
    """
I'll stop here. Thanks again for the mention; the link, if you add it later, is \
{{ target.url }}.""",
)

_BROKEN_LINK = _steps(
    "A broken link on " + _title_or("your page"),
    f"""
While reading {_PAGE_TITLE} ({{{{ prospect.evidence_url }}}}) I noticed that one of the links on \
it no longer works, so readers who click it hit an error page.

If you're looking for a replacement, our page {{{{ target.url }}}} covers the same ground. \
{_PITCH}

Would you consider swapping it in? Happy to send the exact broken URL.""",
    """
Following up on the broken link at {{ prospect.evidence_url }}.

Dead links also cost a page some trust with search engines, so fixing it helps the page either \
way, with our link or another one.""",
    """
If it's easier, reply "which link?" and I'll send the exact URL and where it sits on the page, \
so the fix takes a minute.""",
    """
Last note from me. Whatever you choose to link to, I hope the fix is quick. Our page stays at \
{{ target.url }} if it's useful.""",
)

_SKYSCRAPER = _steps(
    "Something newer for " + _title_or("your page"),
    f"""
I saw that {_PAGE_TITLE} ({{{{ prospect.evidence_url }}}}) links to \
{{% if prospect.competitor is defined %}}a piece on {{{{ prospect.competitor }}}}\
{{% else %}}an older piece{{% endif %}} on this topic.

We've just published a more complete version: {{{{ target.url }}}}

{_PITCH}

Would it be worth a link on your page? Either next to the existing one or instead of it.""",
    """
Following up on {{ prospect.evidence_url }}.

One difference worth knowing: we keep our page updated, so the link won't go stale the way \
older posts often do.""",
    """
If you'd like to judge it quickly, reply and I'll send a three-line summary of what's new \
compared with the piece you link to now.""",
    """
I'll leave it there. Thanks for considering it; the page is {{ target.url }} if you ever refresh \
yours.""",
)

_GUEST_POST = _steps(
    "Article idea for {{ prospect.domain }}",
    """
I've been reading {{ prospect.domain }}{% if prospect.evidence_title is defined %}, including \
"{{ prospect.evidence_title }}"{% endif %}, and would like to write an original article for your \
readers: practical, with examples, written only for you and with no promotion. Where it genuinely \
helps, it would cite our page {{ target.url }}.

Would you be open to it? I can send two or three topic ideas first.""",
    """
Following up on the article idea for {{ prospect.domain }}.

I'm happy to follow your guidelines on length, format and links, and to go through edits until \
it fits your site.""",
    """
If a full article is too much right now, I could write a shorter piece or a few expert tips for \
an existing post on {{ prospect.domain }} instead.""",
    """
I'll stop following up here. If you open up to contributions later, I'd be glad to write for \
{{ prospect.domain }}.""",
)

_ROUNDUP_INCLUSION = _steps(
    '{% if prospect.evidence_title is defined %}For your list "{{ prospect.evidence_title'
    '|truncate(60) }}"{% else %}A suggestion for your list{% endif %}',
    f"""
I enjoyed {_PAGE_TITLE} ({{{{ prospect.evidence_url }}}}), a useful list. I think our page \
would fit it: {{{{ target.url }}}}

{_PITCH}

Would you consider adding it the next time you update the list?""",
    """
Following up on your list at {{ prospect.evidence_url }}.

To make it easy, I can send a one-line description in the same style as the other entries.""",
    """
One more reason it might fit: it fills a slot your list doesn't cover yet, so it adds an option \
for readers rather than repeating one.""",
    """
Last note from me. If you refresh the list later, {{ target.url }} is there to consider. Thanks \
for putting it together.""",
)

DEFAULT_SEQUENCES: dict[str, tuple[StepTemplate, ...]] = {
    "resource-replacement": _RESOURCE_REPLACEMENT,
    "coverage-gap": _COVERAGE_GAP,
    "unlinked-mention": _UNLINKED_MENTION,
    "broken-link": _BROKEN_LINK,
    "skyscraper": _SKYSCRAPER,
    "guest-post": _GUEST_POST,
    "roundup-inclusion": _ROUNDUP_INCLUSION,
}


_angles = sa.table(
    "angles",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("label", sa.String),
    sa.column("hint", sa.Text),
    sa.column("builtin", sa.Boolean),
    sa.column("active", sa.Boolean),
)
_sequences = sa.table(
    "sequences",
    sa.column("id", sa.Integer),
    sa.column("angle_id", sa.Integer),
    sa.column("updated_at", crm.models.base.UTCDateTime()),
)
_steps_table = sa.table(
    "sequence_steps",
    sa.column("sequence_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("day_offset", sa.Integer),
    sa.column("subject_template", sa.Text),
    sa.column("body_template", sa.Text),
)


def insert_builtin_sequences(conn: Any) -> None:
    """Insert the built-in angles, each with its default sequence, that are not there yet."""
    have = set(conn.execute(sa.select(_angles.c.slug)).scalars())
    now = datetime.now(UTC)
    for angle in BUILTIN_ANGLES:
        if angle.slug in have:
            continue
        angle_id = conn.execute(
            _angles.insert()
            .values(slug=angle.slug, label=angle.label, hint=angle.hint, builtin=True, active=True)
            .returning(_angles.c.id)
        ).scalar_one()
        sequence_id = conn.execute(
            _sequences.insert()
            .values(angle_id=angle_id, updated_at=now)
            .returning(_sequences.c.id)
        ).scalar_one()
        conn.execute(
            _steps_table.insert(),
            [
                dict(sequence_id=sequence_id, position=position, day_offset=step.offset_days,
                     subject_template=step.subject, body_template=step.body)
                for position, step in enumerate(DEFAULT_SEQUENCES[angle.slug], start=1)
            ],
        )


def upgrade() -> None:
    insert_builtin_sequences(op.get_bind())


def downgrade() -> None:
    conn = op.get_bind()
    builtin = sa.select(_angles.c.id).where(_angles.c.builtin.is_(True))
    sequences = sa.select(_sequences.c.id).where(_sequences.c.angle_id.in_(builtin))
    conn.execute(_steps_table.delete().where(_steps_table.c.sequence_id.in_(sequences)))
    conn.execute(_sequences.delete().where(_sequences.c.angle_id.in_(builtin)))
    conn.execute(_angles.delete().where(_angles.c.builtin.is_(True)))
