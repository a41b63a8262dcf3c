"""Fault injection for the crash-safety tests: the sender kills itself at a chosen point.

Off unless ``CRM_SEND_FAULT`` is set, e.g. ``after-sending`` (the first time)
or ``after-sending:3`` (the third time). Points, in the order a touch meets them:

- ``after-claim``: the claim of a batch is committed;
- ``after-sending``: ``sending`` is committed, the SMTP conversation not started;
- ``mid-data``: half of the message bytes are written to the server;
- ``after-accepted``: the server said 250, ``sent`` is not committed yet.

The process dies by SIGKILL: no exception handler, ``finally`` or atexit runs,
exactly like a power cut of the process.
"""

from __future__ import annotations

import os
import signal
import smtplib
from typing import Any

ENV = "CRM_SEND_FAULT"
POINTS = ("after-claim", "after-sending", "mid-data", "after-accepted")

_armed: tuple[str, int] | None = None
_seen = 0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm_from_environment() -> None:
    """Read ``CRM_SEND_FAULT`` once per process; a bad value is an error, not silence."""
    global _armed
    raw = os.environ.get(ENV, "").strip()
    if not raw or _armed is not None:
        return
    point, _, nth = raw.partition(":")
    if point not in POINTS:
        raise ValueError(f"{ENV}={raw!r}: the point must be one of {', '.join(POINTS)}")
    _armed = (point, int(nth or "1"))
    if point == "mid-data":
        _patch_smtp_send()


def _fires(point: str) -> bool:
    global _seen
    if _armed is None or _armed[0] != point:
        return False
    _seen += 1
    return _seen >= _armed[1]


def reached(point: str) -> None:
    """Die here when this is the armed point (and its count is reached)."""
    if _fires(point):
        _die()


def _patch_smtp_send() -> None:
    original = smtplib.SMTP.send

    def send(self: smtplib.SMTP, s: Any) -> None:
        # The message itself is the only write that ends with the final dot.
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n") and _fires("mid-data"):
            original(self, s[: len(s) // 2])
            _die()
        original(self, s)

    smtplib.SMTP.send = send  # type: ignore[method-assign]
