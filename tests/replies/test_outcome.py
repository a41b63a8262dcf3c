"""The suggested outcome of a human reply, with the words that said so."""

from __future__ import annotations

import pytest

from crm.replies.outcome import suggest_outcome


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Sure, happy to add it!", "positive"),
        ("Done - the link is live.", "positive"),
        ("I've added your guide to the post.", "positive"),
        ("Not interested, thanks.", "negative"),
        ("Unfortunately we don't accept link insertions.", "negative"),
        ("What's your budget? Our rate is $200 per link.", "neutral"),
        ("Let me check with my editor.", "neutral"),
        ("Hi Emma, who are you?", "neutral"),
        ("Gerne, schicken Sie mir den Link.", "positive"),
        ("Kein Interesse.", "negative"),
        ("Oliver forwarded your note. Happy to swap the link.", "positive"),
        ("Happy to add it for $50.", "neutral"),
    ],
)
def test_suggested_outcome_says_why(text: str, outcome: str) -> None:
    suggested, reason = suggest_outcome(text, "Re: Your guide")
    assert suggested == outcome
    assert reason
