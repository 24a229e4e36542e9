"""Lost to follow-up as a rule (followup.lost) and the protocol key that sets it."""

from __future__ import annotations

from datetime import date

import pytest

from followup import lost
from followup.protocol import Protocol
from followup.schedule import CANCELLED, COMPLETED, MISSED, PENDING, REFUSED, UNREACHABLE

CLOSES = date(2026, 6, 14)


@pytest.mark.parametrize(
    ("outcome", "counts"),
    [
        ("no_answer", True),
        ("someone_else_answered", True),
        ("wrong_number", True),
        ("moved", True),
        ("other", True),
        ("reached", False),
        ("unsafe_to_talk", False),  # she was reached and said "not now": she is reachable
        ("refused", False),
    ],
)
def test_which_outcomes_count_towards_the_limit(outcome, counts):
    assert lost.counts_towards_lost(outcome) is counts


def test_the_third_unanswered_attempt_makes_it_unreachable_and_the_second_does_not():
    assert lost.status_after_attempt(PENDING, "no_answer", 2, 3) == PENDING
    assert lost.status_after_attempt(PENDING, "no_answer", 3, 3) == UNREACHABLE


def test_with_no_count_rule_only_the_window_decides():
    assert lost.status_after_attempt(PENDING, "no_answer", 9, None) == PENDING
    assert lost.status_on(PENDING, CLOSES, 9, date(2026, 6, 15)) == UNREACHABLE


def test_a_refusal_ends_the_follow_up_as_refused_at_once():
    assert lost.status_after_attempt(PENDING, "refused", 0, 3) == REFUSED


def test_an_attempt_never_moves_a_follow_up_that_has_ended():
    for ended in (COMPLETED, MISSED, CANCELLED, REFUSED, UNREACHABLE):
        assert lost.status_after_attempt(ended, "no_answer", 5, 3) == ended


def test_the_window_closing_after_one_attempt_is_unreachable_and_after_none_missed():
    assert lost.status_on(PENDING, CLOSES, 1, CLOSES) == PENDING  # the last day is still open
    assert lost.status_on(PENDING, CLOSES, 1, date(2026, 6, 15)) == UNREACHABLE
    assert lost.status_on(PENDING, CLOSES, 0, date(2026, 6, 15)) == MISSED
    assert lost.status_on(COMPLETED, CLOSES, 0, date(2026, 6, 15)) == COMPLETED


def test_withdrawal_cancels_what_is_open_or_to_come_and_keeps_what_had_closed():
    assert lost.status_on_withdrawal(PENDING, CLOSES, 0, CLOSES) == CANCELLED
    assert lost.status_on_withdrawal(PENDING, CLOSES, 0, date(2026, 6, 15)) == MISSED
    assert lost.status_on_withdrawal(PENDING, CLOSES, 2, date(2026, 6, 15)) == UNREACHABLE
    assert lost.status_on_withdrawal(COMPLETED, CLOSES, 0, date(2026, 6, 1)) == COMPLETED


def _protocol(**keys) -> Protocol:
    checkpoint = {"name": "followup_6m", "subject": "partner", "anchor": "completion"}
    checkpoint.update(keys.pop("checkpoint", {}))
    return Protocol.model_validate({"id": "p", "name": "P", "checkpoints": [checkpoint], **keys})


def test_the_protocol_sets_the_limit_and_a_checkpoint_may_override_it():
    assert _protocol().lost_after("followup_6m", "partner") == 3
    assert _protocol(lost_after_attempts=5).lost_after("followup_6m", "partner") == 5
    overridden = _protocol(checkpoint={"lost_after_attempts": 2})
    assert overridden.lost_after("followup_6m", "partner") == 2
    window_only = _protocol(checkpoint={"lost_after_attempts": 0})
    assert window_only.lost_after("followup_6m", "partner") is None


def test_the_limit_moves_no_date_so_it_is_not_a_new_revision():
    assert _protocol().revision == _protocol(lost_after_attempts=7).revision
    assert _protocol().revision == _protocol(checkpoint={"lost_after_attempts": 1}).revision
