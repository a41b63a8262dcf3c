"""What a person confirms for a message whose effects were held back (services: flush only).

Inbound mail changes nothing it cannot prove we sent (DESIGN §6): an unsubscribe
request from an address we never wrote to, or a bounce that matches none of our
touches, waits with a suggested action (`crm.replies.effect_rules.suggest_action`).
Confirming it is the person's decision, so it may do what the mail alone may not:
suppress that one address and stop its sequences. A domain is never suppressed here.
"""

from __future__ import annotations

from datetime import datetime

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.core.suppression import suppress, suppression_for
from crm.extensions import db
from crm.models import InboundKind, InboundMessage, User, utcnow
from crm.outreach.lifecycle import stop_enrollments_of_address
from crm.replies.effect_rules import SuggestedAction, suggest_action


def suggested_action(message: InboundMessage) -> SuggestedAction | None:
    """Return what a person may still do about this message; None when nothing is left."""
    touch = message.matched_touch
    touch_address = touch.enrollment.contact.email.strip().lower() if touch is not None else None
    action = suggest_action(
        message.kind.value,
        matched=message.prospect_id is not None,
        sender=message.from_address,
        touch_address=touch_address,
        bounce_recipient=message.bounce_recipient,
    )
    if action is None:
        return None
    if action.action == "suppress" and action.address and suppression_for(action.address):
        return None  # already on the list: nothing left to confirm
    if action.action != "suppress" and message.dismissed_at is not None:
        return None
    return action


def confirm_suggestion(
    message: InboundMessage, *, actor: User | None = None, now: datetime | None = None
) -> list[str]:
    """Do the suggested suppression of one address; return what changed."""
    action = suggested_action(message)
    if action is None or action.action != "suppress" or not action.address:
        raise UserError("nothing to confirm for this message: its suggestion is already done")
    bounced = message.kind == InboundKind.BOUNCE_HARD
    who = actor.display_name if actor is not None else "the command line"
    reason = "hard bounce" if bounced else "asked not to be contacted"
    entry = suppress(action.address, f"{reason} (confirmed by {who})", actor=actor)
    done = [f"{entry.value} is never emailed again ({reason}, confirmed by {who})"]
    stopped = stop_enrollments_of_address(
        entry.value, "bounced" if bounced else "unsubscribed", actor
    )
    if stopped:
        done.append(f"stopped {stopped} sequence(s) to {entry.value}")
    message.effects = [*list(message.effects or []), *done]
    if message.prospect_id is None:
        message.dismissed_at = now or utcnow()  # handled: out of triage
    record_audit(
        "inbound.confirm", user=actor, object_type="inbound_message", object_id=message.id,
        suppressed=entry.value,
    )  # fmt: skip
    db.session.flush()
    return done
