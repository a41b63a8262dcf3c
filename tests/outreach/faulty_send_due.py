"""`crm send-due` that kills itself (SIGKILL) at a chosen point of the send path.

    python -m tests.outreach.faulty_send_due POINT[:N] [crm send-due options]

The crash tests run this instead of `crm send-due`; the product carries no
fault hook. It dies the N-th time (default the first) the pass reaches POINT,
in the order a message meets them:

- ``after-claim``: the claim of a batch is committed;
- ``after-sending``: ``sending`` is committed, the SMTP conversation not started;
- ``mid-data``: half of the message bytes are written to the server;
- ``after-accepted``: the server said 250, ``sent`` is not committed yet.

SIGKILL runs no exception handler, ``finally`` or atexit: a power cut of the process.
"""

from __future__ import annotations

import os
import signal
import smtplib
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.cli import main
from crm.mail.smtp import SmtpTransport
from crm.outreach import outbox

POINTS = ("after-claim", "after-sending", "mid-data", "after-accepted")


def arm(point: str, nth: int) -> None:
    """Patch the send path so the process dies the `nth` time it reaches `point`."""
    if point not in POINTS:
        raise SystemExit(f"{point!r}: the point must be one of {', '.join(POINTS)}")
    seen = 0

    def fires() -> bool:
        nonlocal seen
        seen += 1
        return seen >= nth

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after-claim":
        claimed = False

        def claiming(original: Callable[..., list[int]]) -> Callable[..., list[int]]:
            def claim(*args: Any, **kwargs: Any) -> list[int]:
                nonlocal claimed
                ids = original(*args, **kwargs)
                claimed = bool(ids) and fires()
                return ids

            return claim

        outbox.claim_due = claiming(outbox.claim_due)  # type: ignore[assignment]
        outbox.claim_one_offs = claiming(outbox.claim_one_offs)  # type: ignore[assignment]

        @event.listens_for(Session, "after_commit")
        def after_commit(_session: Session) -> None:
            if claimed:
                die()

    elif point == "mid-data":
        send_bytes = smtplib.SMTP.send

        def send(self: smtplib.SMTP, s: Any) -> None:
            # The message itself is the only write that ends with the final dot.
            if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n") and fires():
                send_bytes(self, s[: len(s) // 2])
                die()
            send_bytes(self, s)

        smtplib.SMTP.send = send  # type: ignore[method-assign]
    else:
        send_message = SmtpTransport.send

        def send_one(self: SmtpTransport, raw: bytes, recipient: str, sender: str) -> Any:
            if point == "after-sending" and fires():
                die()
            outcome = send_message(self, raw, recipient, sender)
            if point == "after-accepted" and outcome.sent and fires():
                die()
            return outcome

        SmtpTransport.send = send_one  # type: ignore[method-assign]


if __name__ == "__main__":
    where, _, times = sys.argv[1].partition(":")
    arm(where, int(times or "1"))
    sys.argv = ["crm", "send-due", *sys.argv[2:]]
    main()
