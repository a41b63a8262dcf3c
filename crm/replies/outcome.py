"""The reply outcome a human reply suggests: positive, neutral or negative, and why (pure)."""

from __future__ import annotations

import re
from typing import Literal

Outcome = Literal["positive", "neutral", "negative"]

_NEGATIVE = re.compile(
    r"\bnot interested\b|\bno,? thanks?\b|\bno thank you\b|\bwe (?:don't|do not|won't|will not)"
    r" (?:accept|link|add|do|publish|allow|take)\b|\bnot (?:a fit|a good fit|relevant)\b"
    r"|\bwe(?:'re| are) not (?:able|accepting|adding)\b|\bunfortunately\b|\bpass on this\b"
    r"|\bplease (?:remove|stop)\b|\bkein interesse\b|\bpas intéressée?\b"
    r"|\bno (?:nos|me) interesa\b|\bno estamos interesados\b",
    re.IGNORECASE,
)  # fmt: skip
# Money talk means a negotiation, whatever else the reply says.
_NEGOTIATING = re.compile(
    r"\b(?:how much|what(?:'s| is) (?:your|the) (?:budget|rate|price|fee)|our (?:rate|fee|price)s?"
    r"|sponsored|paid (?:post|placement|link)|pricing|price list|\d+\s?(?:usd|eur))\b"
    r"|[$€£]\s?\d+",
    re.IGNORECASE,
)  # fmt: skip
_UNDECIDED = re.compile(
    r"\b(?:let me (?:check|think|ask|get back)|i'll (?:check|ask|get back|forward|pass)"
    r"|forwarded (?:this|your)|send (?:me )?more (?:info|details)|can you (?:tell|send|share))\b",
    re.IGNORECASE,
)  # fmt: skip
_POSITIVE = re.compile(
    r"\b(?:sure|happy to|glad to|sounds good|sounds great|great (?:resource|piece|article|idea)"
    r"|(?:i|we)(?:'ve| have) (?:added|included|linked|updated)|(?:i|we)(?:'ll| will) (?:add"
    r"|include|link|update)|it(?:'s| is) (?:live|added|up)|link is (?:live|up)|done\b|added it"
    r"|go ahead|send (?:it|the draft|over)|interested|love to|would be happy"
    r"|gerne|avec plaisir|volontiers|con gusto|encantad[oa])",
    re.IGNORECASE,
)  # fmt: skip


def suggest_outcome(snippet: str, subject: str = "") -> tuple[Outcome, str]:
    """Suggest positive, neutral or negative for a human reply, with the words that said so."""
    text = f"{subject}\n{snippet}"
    rules: tuple[tuple[Outcome, re.Pattern[str]], ...] = (
        ("negative", _NEGATIVE), ("neutral", _NEGOTIATING), ("positive", _POSITIVE),
        ("neutral", _UNDECIDED),
    )  # fmt: skip
    for outcome, pattern in rules:
        found = pattern.search(text)
        if found:
            return outcome, f'says "{found.group(0)}"'
    return "neutral", "no clear cue: read it"
