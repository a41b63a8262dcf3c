"""Deal stages: which a person moves a prospect to by hand, which only the system sets (pure)."""

from __future__ import annotations

from crm.models.prospect import ProspectStatus

S = ProspectStatus

# The pipeline in the order people read it (excluded sits outside: hidden before outreach).
PIPELINE: tuple[ProspectStatus, ...] = (
    S.NEW, S.QUALIFIED, S.CONTACTED, S.REPLIED, S.NEGOTIATING, S.WON, S.LOST, S.NOT_A_FIT,
)  # fmt: skip
ALL_STAGES: tuple[ProspectStatus, ...] = (*PIPELINE[:2], S.EXCLUDED, *PIPELINE[2:])

# Stages the system sets, and what sets them (so a refusal says where to go instead).
SYSTEM_SET: dict[ProspectStatus, str] = {
    S.CONTACTED: "the first email of a sequence is sent",
    S.REPLIED: "a reply to one of our emails arrives",
    S.WON: "the won link is logged (crm links add, or Log a won link on the prospect)",
}
HAND_SET: tuple[ProspectStatus, ...] = (
    S.NEW, S.QUALIFIED, S.EXCLUDED, S.NEGOTIATING, S.LOST, S.NOT_A_FIT,
)  # fmt: skip
# A move to these says why: the reason shows wherever the prospect is listed.
NEEDS_REASON: tuple[ProspectStatus, ...] = (S.EXCLUDED, S.LOST, S.NOT_A_FIT)
# Stages before outreach: a prospect in outreach is closed (lost / not a fit), never sent back.
BEFORE_OUTREACH: tuple[ProspectStatus, ...] = (S.NEW, S.QUALIFIED, S.EXCLUDED)
IN_OUTREACH: tuple[ProspectStatus, ...] = (S.CONTACTED, S.REPLIED, S.NEGOTIATING)
# Closing a deal by hand stops the prospect's sequences.
CLOSED: tuple[ProspectStatus, ...] = (S.LOST, S.NOT_A_FIT)


class StageError(ValueError):
    """A stage name nobody knows."""


def stage_names() -> list[str]:
    """Every stage as the CLI spells it (not-a-fit)."""
    return [cli_name(s) for s in ALL_STAGES]


def cli_name(stage: ProspectStatus) -> str:
    return stage.value.replace("_", "-")


def parse_stage(text: str) -> ProspectStatus:
    """Read a stage as people write it: "not-a-fit", "not a fit", "not_a_fit", "in sequence"."""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    try:
        return ProspectStatus(key)
    except ValueError:
        pass
    if key in ProspectStatus.__members__.keys() | {m.lower() for m in ProspectStatus.__members__}:
        return ProspectStatus[key.upper()]
    raise StageError(f"unknown stage {text!r}: use one of {', '.join(stage_names())}")


def hand_move_refusal(before: ProspectStatus, after: ProspectStatus) -> str | None:
    """Say why a person may not move a prospect from `before` to `after` (None: they may)."""
    if after in SYSTEM_SET:
        return f"{after.label} is set by Linkgap when {SYSTEM_SET[after]}"
    if before == after:
        return f"already {after.label}"
    if before == S.WON:
        return "the link is won"
    if before in IN_OUTREACH and after in BEFORE_OUTREACH:
        return "already in outreach (close it as lost or not a fit instead)"
    return None
