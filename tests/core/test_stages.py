"""Deal stages: what a person may set by hand, and how stages are spelt."""

from __future__ import annotations

import pytest

from crm.core.stages import StageError, hand_move_refusal, parse_stage, stage_names
from crm.models import ProspectStatus as S


@pytest.mark.parametrize("text", ["not-a-fit", "not a fit", "Not_A_Fit", " NOT-A-FIT "])
def test_not_a_fit_is_read_however_it_is_spelt(text: str) -> None:
    assert parse_stage(text) == S.NOT_A_FIT


def test_old_stage_names_read_as_the_new_stages() -> None:
    assert parse_stage("in_sequence") == S.CONTACTED
    assert parse_stage("declined") == S.LOST


def test_an_unknown_stage_names_every_stage() -> None:
    with pytest.raises(StageError, match="new, qualified, excluded, contacted, replied"):
        parse_stage("maybe")


def test_the_cli_lists_the_pipeline_in_order() -> None:
    assert stage_names() == ["new", "qualified", "excluded", "contacted", "replied",
                             "negotiating", "won", "lost", "not-a-fit"]  # fmt: skip


@pytest.mark.parametrize("stage", [S.CONTACTED, S.REPLIED, S.WON])
def test_stages_the_system_sets_are_refused_by_hand_with_what_sets_them(stage: S) -> None:
    why = hand_move_refusal(S.QUALIFIED, stage)
    assert why is not None and "set by Linkgap when" in why


@pytest.mark.parametrize(
    ("before", "after"),
    [(S.NEW, S.QUALIFIED), (S.CONTACTED, S.NEGOTIATING), (S.REPLIED, S.NEGOTIATING),
     (S.REPLIED, S.LOST), (S.NEGOTIATING, S.NOT_A_FIT), (S.LOST, S.QUALIFIED),
     (S.NOT_A_FIT, S.NEW), (S.QUALIFIED, S.NOT_A_FIT)],
)  # fmt: skip
def test_a_person_moves_a_prospect_on_or_closes_it(before: S, after: S) -> None:
    assert hand_move_refusal(before, after) is None


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [(S.CONTACTED, S.QUALIFIED, "already in outreach"), (S.WON, S.LOST, "the link is won"),
     (S.LOST, S.LOST, "already lost")],
)  # fmt: skip
def test_a_prospect_in_outreach_or_won_is_not_sent_back(before: S, after: S, why: str) -> None:
    assert why in (hand_move_refusal(before, after) or "")
