"""The state a check leaves a link in (pure, table-driven)."""

from __future__ import annotations

import pytest

from crm.links.verdict import next_state
from crm.models import CheckResult, LinkState

U, L, N, X = LinkState.UNCHECKED, LinkState.LIVE, LinkState.INCONCLUSIVE, LinkState.LOST
FOUND, MISSING, GONE, BLOCKED = (CheckResult.FOUND, CheckResult.MISSING, CheckResult.GONE,
                                 CheckResult.INCONCLUSIVE)  # fmt: skip


@pytest.mark.parametrize(
    ("state", "misses", "result", "lost_after", "expected"),
    [
        (U, 0, FOUND, 2, (L, 0)),
        (L, 1, FOUND, 2, (L, 0)),
        (X, 5, FOUND, 2, (L, 0)),  # back: live again
        (L, 0, MISSING, 2, (L, 1)),  # one miss is not yet lost
        (L, 1, MISSING, 2, (X, 2)),
        (L, 1, GONE, 2, (X, 2)),
        (U, 0, GONE, 1, (X, 1)),
        (L, 1, BLOCKED, 2, (N, 1)),  # blocked: neither adds nor resets
        (N, 1, MISSING, 2, (X, 2)),
        (X, 2, BLOCKED, 2, (X, 2)),  # a blocked check never undoes "lost" either
        (X, 2, MISSING, 2, (X, 3)),
    ],
)
def test_next_state(
    state: LinkState, misses: int, result: CheckResult, lost_after: int,
    expected: tuple[LinkState, int],
) -> None:  # fmt: skip
    assert next_state(state, misses, result, lost_after) == expected
