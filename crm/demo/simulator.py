"""The demo's prospects: they answer delivered touches through the sandbox's IMAP server.

A worker job (`demo-prospects`, scheduled only when DEMO_SANDBOX is set, which
`crm up` does for the demo workspace only). Each pass looks at the touches the
demo mailbox sent since the sandbox was prepared, waits DEMO_REPLY_DELAY_SECONDS
after each, and puts the answer its prospect gives (crm/demo/answers.py) into the
mailbox's INBOX with IMAP APPEND: the real poller then reads, matches and
classifies it like any other mail. A prospect who places the link publishes its
page on the sandbox's page server.

It then plays the demo specialist for the replies the poller has matched: a
positive or negative reply gets its outcome, and a placed link is logged so the
link checker verifies it. A colleague's reply is left for the user to judge.
State (which touches were answered) is a small JSON file in the sandbox folder,
written atomically, so a touch is answered at most once across restarts.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from crm.core.errors import UserError
from crm.demo.answers import Act, SentTouch, act_of, answer, page_html, page_url
from crm.demo.mailbox import DEMO_MAILBOX
from crm.demo.sandbox import ANSWERS_FOLDER, publish_page, store_message
from crm.extensions import db
from crm.models import (
    Enrollment,
    InboundKind,
    InboundMessage,
    Mailbox,
    ReplyOutcome,
    Role,
    Touch,
    TouchState,
    User,
    utcnow,
)

STATE_FILE = "simulator.json"
BATCH = 200
_OUTCOMES = {Act.PLACED: ReplyOutcome.POSITIVE, Act.POSITIVE: ReplyOutcome.POSITIVE,
             Act.NEGATIVE: ReplyOutcome.NEGATIVE}  # fmt: skip


def load_state(folder: Path) -> dict[str, Any]:
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        state = {}
    state.setdefault("answered", {})
    state.setdefault("handled", [])
    return state


def save_state(folder: Path, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / STATE_FILE)


def start_simulation(folder: Path, now: datetime) -> None:
    """Answer only touches sent from now on (the seeded history was never sent)."""
    state = load_state(folder)
    state.setdefault("since", now.isoformat())
    save_state(folder, state)


def job_simulate_prospects() -> dict[str, int]:
    """The worker's pass: answer due touches, then act on the matched replies."""
    folder = Path(current_app.config["DEMO_SANDBOX"])
    delay = timedelta(seconds=int(current_app.config.get("DEMO_REPLY_DELAY_SECONDS") or 20))
    return simulate_pass(folder, utcnow(), delay=delay)


def _append(mailbox: Mailbox, messages: list[bytes]) -> None:
    from imapclient import IMAPClient

    from crm.outreach.mailboxes import mailbox_password

    with IMAPClient(mailbox.imap_host, mailbox.imap_port, ssl=False, timeout=10) as imap:
        imap.login(mailbox.username, mailbox_password(mailbox))
        for raw in messages:
            imap.append("INBOX", raw)


def simulate_pass(folder: Path, now: datetime, *, delay: timedelta) -> dict[str, int]:
    """Answer the touches due an answer and handle matched replies; commit."""
    answered = answer_touches(folder, now, delay=delay)
    outcomes, links = _act_on_replies(folder, load_state(folder), now)
    db.session.commit()
    return {"answered": answered, "outcomes": outcomes, "links": links}


def answer_touches(folder: Path, now: datetime, *, delay: timedelta) -> int:
    """Put the prospects' answers to touches sent `delay` ago into the IMAP INBOX."""
    state = load_state(folder)
    mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == DEMO_MAILBOX))
    if mailbox is None or "since" not in state:
        return 0
    since = datetime.fromisoformat(state["since"])
    answered: dict[str, str] = state["answered"]
    touches = db.session.scalars(
        select(Touch)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .where(Enrollment.mailbox_id == mailbox.id, Touch.state == TouchState.SENT,
               Touch.sent_at >= since, Touch.sent_at <= now - delay)
        .order_by(Touch.sent_at, Touch.id)
        .limit(BATCH + len(answered))
    ).all()  # fmt: skip
    outgoing: list[bytes] = []
    for touch in touches:
        if touch.message_id in answered or len(outgoing) >= BATCH:
            continue
        act, step = act_of(touch.enrollment_id)
        raw = None
        if act is not Act.SILENT and touch.step == step:
            raw = _answer(folder, touch, act, now)
        if raw is not None:
            outgoing.append(raw)
        answered[touch.message_id] = act.value if raw is not None else "-"
    if outgoing:
        _append(mailbox, outgoing)
        for raw in outgoing:
            store_message(folder / ANSWERS_FOLDER, raw)
    save_state(folder, state)
    return len(outgoing)


def _answer(folder: Path, touch: Touch, act: Act, now: datetime) -> bytes | None:
    enrollment = touch.enrollment
    prospect = enrollment.prospect
    mailbox = enrollment.mailbox
    sent = SentTouch(
        message_id=touch.message_id, subject=touch.subject or "", body=touch.body or "",
        to_address=enrollment.contact.email, from_address=mailbox.from_email,
        first_name=enrollment.contact.first_name, domain=prospect.domain,
        sent_at=touch.sent_at or now,
    )  # fmt: skip
    anchor, target = _anchor_and_target(prospect)
    if act is Act.PLACED:
        publish_page(folder, page_url(prospect.domain), page_html(prospect.domain, target, anchor))
    return answer(act, sent, now, anchor=anchor)


def _anchor_and_target(prospect: Any) -> tuple[str, str]:
    page = prospect.target_page
    if page is None:
        return prospect.campaign.site.domain, f"https://{prospect.campaign.site.domain}/"
    return (page.title or prospect.campaign.site.domain), page.url


def _act_on_replies(folder: Path, state: dict[str, Any], now: datetime) -> tuple[int, int]:
    """Mark the outcome of matched replies and log placed links, as the specialist would."""
    from crm.links.service import LinkInput, log_won_link
    from crm.replies.inbox import set_outcome

    acts = {mid: Act(value) for mid, value in state["answered"].items() if value in
            {a.value for a in _OUTCOMES}}  # fmt: skip
    if not acts:
        return 0, 0
    handled = set(state["handled"])
    messages = db.session.scalars(
        select(InboundMessage)
        .join(Touch, Touch.id == InboundMessage.matched_touch_id)
        .where(Touch.message_id.in_(list(acts)), InboundMessage.kind == InboundKind.HUMAN_REPLY)
        .order_by(InboundMessage.id)
    ).all()
    specialist = db.session.scalar(
        select(User).where(User.role == Role.SPECIALIST).order_by(User.id)
    )
    outcomes = links = 0
    for message in messages:
        if message.id in handled or message.matched_touch is None:
            continue
        handled.add(message.id)
        act = acts[message.matched_touch.message_id]
        if message.outcome is None:
            set_outcome(message, _OUTCOMES[act], actor=specialist, now=now)
            outcomes += 1
        if act is Act.PLACED and message.prospect is not None:
            anchor, target = _anchor_and_target(message.prospect)
            data = LinkInput(source_url=page_url(message.prospect.domain), target_url=target,
                             anchor=anchor, rel="dofollow")  # fmt: skip
            try:
                log_won_link(message.prospect, data, actor=specialist, message=message, now=now)
                links += 1
            except UserError:
                pass  # already logged by hand: the user got there first
    state["handled"] = sorted(handled)
    save_state(folder, state)
    return outcomes, links
