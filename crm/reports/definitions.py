"""What every report figure means (DESIGN §7), in words the page and the docs show.

One source for the "How is this counted?" panel, the CLI's help and the
module docs of crm.reports, so the words and the SQL cannot drift apart:
crm/reports/facts.py implements exactly these sentences.
"""

from __future__ import annotations

# Below this many contacted prospects a row's rates are marked "small sample":
# a rate on 3 emails says nothing, and its Wilson interval shows how little.
SMALL_SAMPLE = 30

HOW_COUNTED: tuple[tuple[str, str], ...] = (
    (
        "Contacted",
        "Enrollments (one contact of one prospect in one sequence) with at least one touch "
        "sent. A touch that bounced was still sent, so it stays in. Contacted prospects counts "
        "each prospect once, however many of its contacts were emailed.",
    ),
    (
        "Replied",
        "Contacted enrollments with a human reply matched to one of their touches. "
        "Auto-replies and out-of-office messages are not replies. A reply from a colleague at "
        "the prospect's domain counts for the enrollment whose touch it answered.",
    ),
    (
        "Positive",
        "Contacted enrollments with a human reply marked positive.",
    ),
    (
        "Placed",
        "Prospects with a won link, including links won without any email from us (a call, "
        "an existing relationship). Those are counted here but stay outside the placement "
        "rate, whose denominator is prospects we emailed.",
    ),
    (
        "Reply rate",
        "Replied ÷ contacted. Positive reply rate: positive ÷ contacted.",
    ),
    (
        "Placement rate",
        "Contacted prospects with a won link ÷ contacted prospects.",
    ),
    (
        "Interval",
        "Each rate shows its counts and a Wilson 95% interval: the range the true rate "
        f"plausibly lies in. Rows with fewer than {SMALL_SAMPLE} contacted prospects are marked "
        "small: do not rank angles on them.",
    ),
    (
        "Time to placement",
        "The won link's placed date minus the day the prospect's first touch was sent, "
        "median and mean over placed prospects (links dated before the first touch are left out).",
    ),
    (
        "Step",
        "The touch that got the response: the step the first human reply answered (a reply to "
        "a follow-up counts for that follow-up). Each step's contacted count is the enrollments "
        "whose touch at that step was sent.",
    ),
    (
        "Specialist",
        "The prospect's assignee, or whoever enrolled the contact when nobody is assigned.",
    ),
    (
        "Date range",
        "Picks enrollments by the day their first touch was sent (a cohort); their replies and "
        "links count whenever they came. Links won without email are picked by placed date.",
    ),
    (
        "Bounces, unsubscribes",
        "Enrollments stopped by a hard bounce (or with one matched), and enrollments stopped "
        "because the address unsubscribed or was suppressed.",
    ),
)
