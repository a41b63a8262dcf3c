"""A reports workload: 100,000 prospects, 1,000,000 touches, their replies and won links.

Seeded and written with bulk inserts of explicit ids, so both backends get the
same rows. Shapes follow a real team's year: 2.5 contacts per prospect, four
touches each (most sent), ~15% human replies, bounces, out-of-office notes,
outcomes, and won links (some without any email).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

TOUCHES_PER_ENROLLMENT = 4
LINK_TYPES = ("resource", "roundup", "editorial", "comparison", "guest_post", "directory",
              "forum", "profile", "other")  # fmt: skip
START = datetime(2025, 11, 1, tzinfo=UTC)


def _batches(rows: list[dict[str, Any]], size: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _message(no: int, enrollment: dict[str, Any], touch_id: int, kind: str, at: datetime,
             outcome: str | None) -> dict[str, Any]:  # fmt: skip
    """One inbound message matched to a touch of the enrollment."""
    return {
        "id": no, "mailbox_id": enrollment["mailbox_id"], "folder": "INBOX",
        "message_id": f"<m{no}@mail.example>", "in_reply_to": "", "references": "",
        "from_address": f"c{enrollment['contact_id']}@mail.example", "from_name": "",
        "to_addresses": "", "subject": "Re: hello", "received_at": at, "snippet": "",
        "kind": kind, "evidence": [], "matched_touch_id": touch_id,
        "prospect_id": enrollment["prospect_id"], "enrollment_id": enrollment["id"],
        "match_method": "in_reply_to", "match_detail": "", "outcome": outcome,
        "suggestion_reason": "", "effects": [], "created_at": at,
    }  # fmt: skip


def fill(session: Any, campaign_id: int, touches: int, seed: int = 11) -> dict[str, int]:
    """Insert the workload into a migrated database holding one campaign; return its counts."""
    from crm.models import (
        Angle,
        Contact,
        Enrollment,
        InboundMessage,
        Mailbox,
        Prospect,
        Sequence,
        TargetPage,
        Touch,
        User,
        WonLink,
    )

    rng = random.Random(seed)
    angles = {a.slug: a for a in session.query(Angle)}
    sequences = {s.angle_id: s.id for s in session.query(Sequence)}
    slugs = sorted(angles)
    now = START
    users = [User(email=f"spec{i}@bench.example", name=f"Specialist {i}", password_hash="x")
             for i in range(4)]  # fmt: skip
    mailboxes = [Mailbox(name=f"box{i}", from_email=f"box{i}@our-site.com", username="u",
                         smtp_host="127.0.0.1", imap_host="127.0.0.1")
                 for i in range(4)]  # fmt: skip
    pages = [TargetPage(campaign_id=campaign_id, url=f"https://our-site.com/page-{i}",
                        title=f"Page {i}") for i in range(10)]  # fmt: skip
    session.add_all([*users, *mailboxes, *pages])
    session.flush()
    n_enrollments = touches // TOUCHES_PER_ENROLLMENT
    n_prospects = max(1, n_enrollments * 2 // 5)
    prospects, contacts, enrollments, rows, inbound, won = [], [], [], [], [], []
    for p in range(1, n_prospects + 1):
        prospects.append({
            "id": p, "campaign_id": campaign_id, "domain": f"site{p}.example.com",
            "status": "contacted", "status_changed_at": now, "created_at": now,
            "updated_at": now, "source": "import", "in_gap": True, "links_to_us": False,
            "overlap": 1, "tier": rng.choices((1, 2, 3), (1, 3, 6))[0], "category_bits": 2,
            "competitors": [], "backlinks": {}, "score": 0.5, "score_parts": {},
            "authority": None if rng.random() < 0.05 else round(min(95.0, rng.paretovariate(1.3) * 12), 1),  # noqa: E501
            "link_type": rng.choice(LINK_TYPES), "angle": rng.choice(slugs),
            "target_page_id": rng.choice(pages).id, "target_confirmed": False, "notes": "",
            "assigned_to_id": None if rng.random() < 0.1 else rng.choice(users).id,
            "restored": False, "excluded_note": "", "link_type_manual": False, "broken_link": False,
        })  # fmt: skip
    touch_id = 0
    for e in range(1, n_enrollments + 1):
        prospect = prospects[(e - 1) * n_prospects // n_enrollments]
        contacts.append({"id": e, "prospect_id": prospect["id"], "email": f"c{e}@mail.example",
                         "created_at": now, "source": "import", "first_name": "", "last_name": "",
                         "role": "", "timezone": ""})  # fmt: skip
        angle = prospect["angle"] if rng.random() < 0.8 else rng.choice(slugs)
        first = START + timedelta(days=rng.uniform(0, 360))
        sent_steps = rng.choices((0, 1, 2, 3, 4), (3, 10, 12, 15, 60))[0]
        reply_step = None
        if sent_steps and rng.random() < 0.16:
            reply_step = rng.randint(1, sent_steps)
            sent_steps = reply_step
        state, reason = ("active", None) if sent_steps < 4 and reply_step is None else (
            ("stopped", "replied") if reply_step else ("completed", None))  # fmt: skip
        if sent_steps and rng.random() < 0.01:
            state, reason = "stopped", "unsubscribed"
        bounce = sent_steps > 0 and reply_step is None and rng.random() < 0.03
        if bounce:
            state, reason = "stopped", "bounced"
        enrollments.append({
            "id": e, "prospect_id": prospect["id"], "contact_id": e,
            "sequence_id": sequences[angles[angle].id], "mailbox_id": rng.choice(mailboxes).id,
            "angle": angle, "state": state, "stop_reason": reason, "created_at": first,
            "created_by_id": rng.choice(users).id,
        })  # fmt: skip
        ids = []
        for step in range(1, TOUCHES_PER_ENROLLMENT + 1):
            touch_id += 1
            ids.append(touch_id)
            when = first + timedelta(days=(0, 3, 8, 13)[step - 1], minutes=rng.randint(0, 600))
            went = step <= sent_steps
            rows.append({
                "id": touch_id, "enrollment_id": e, "step": step,
                "message_id": f"<t{touch_id}@our-site.com>",
                "state": "sent" if went else ("scheduled" if state == "active" else "cancelled"),
                "due_at": when, "planned_at": first, "sent_at": when if went else None,
                "attempts": 1 if went else 0, "last_error": "", "smtp_reply": "",
            })  # fmt: skip

        answers: list[tuple[str, int, datetime, str | None]] = []
        if bounce:
            answers.append(("bounce_hard", 1, first + timedelta(minutes=5), None))
        if sent_steps >= 2 and rng.random() < 0.05:
            answers.append(("ooo", 2, first + timedelta(days=3, hours=1), None))
        outcome = None
        if reply_step is not None:
            at = first + timedelta(days=(0, 3, 8, 13)[reply_step - 1] + rng.uniform(0.1, 3))
            outcome = rng.choices(("positive", "neutral", "negative", None), (5, 2, 2, 1))[0]
            answers.append(("human_reply", reply_step, at, outcome))
        for kind, step, at, said in answers:
            inbound.append(
                _message(len(inbound) + 1, enrollments[-1], ids[step - 1], kind, at, said)
            )
        if outcome == "positive" and rng.random() < 0.45 and prospect.get("won") is None:
            prospect["won"] = True
            won.append(
                {
                    "prospect_id": prospect["id"],
                    "placed_on": (at + timedelta(days=rng.randint(3, 60))).date(),
                }
            )
    for p in rng.sample(prospects, max(1, n_prospects // 300)):
        if p.get("won") is None:
            p["won"] = True
            won.append(
                {
                    "prospect_id": p["id"],
                    "placed_on": (START + timedelta(days=rng.randint(0, 360))).date(),
                }
            )
    for p in prospects:
        p.pop("won", None)
    links = [{
        "id": i, "campaign_id": campaign_id, "prospect_id": w["prospect_id"],
        "source_url": f"https://site{w['prospect_id']}.example.com/post", "target_url": "https://our-site.com/page-1",
        "anchor": "our site", "rel": "dofollow", "placed_on": w["placed_on"], "note": "",
        "anchor_type": rng.choice(("exact", "partial", "branded", "naked", "generic")),
        "state": rng.choice(("live", "live", "lost", "unchecked")),
        "state_changed_at": now, "created_at": now,
    } for i, w in enumerate(won, start=1)]  # fmt: skip
    for model, data in ((Prospect, prospects), (Contact, contacts), (Enrollment, enrollments),
                        (Touch, rows), (InboundMessage, inbound), (WonLink, links)):  # fmt: skip
        for batch in _batches(data):
            session.execute(insert(model), batch)
    return {"prospects": n_prospects, "enrollments": n_enrollments, "touches": len(rows),
            "inbound": len(inbound), "won_links": len(links)}  # fmt: skip
