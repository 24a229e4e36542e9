"""What the sender does after a failed send, decided by pure functions: one row per case."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup.dispatch.failure import (
    Decision,
    Failure,
    Notice,
    Outcome,
    Rules,
    backoff_delay,
    by_fallback,
    decide,
    refusal,
    still_in_doubt,
)
from followup.dispatch.timing import QuietHours

NOW = datetime(2026, 3, 23, 10, 0, tzinfo=UTC)  # 11:00 in Belgrade, outside quiet hours
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)
RULES = Rules(
    fallback_after=30 * MIN,
    in_doubt_resend_after=60 * MIN,
    zone=ZoneInfo("Europe/Belgrade"),
    quiet=QuietHours(time(20, 0), time(8, 0)),
)
REMINDER = Failure(
    kind="reminder",
    channel="sms",
    route=("sms", "email", "console"),
    attempts=1,
    permanent=False,
    failing_since=NOW - 5 * MIN,
    useful_until=NOW + 6 * 60 * MIN,
)


def permanent(code: str, **more) -> Failure:
    return replace(REMINDER, permanent=True, code=code, **more)


DECISIONS = [
    (
        "an invalid number is refused for good, flagged, and goes by e-mail",
        permanent("21211"),
        NOW,
        0.5,
        Decision(
            Outcome.REFUSED,
            next_channel="email",
            flag_channel=True,
            notice=Notice.IF_NEWLY_FLAGGED,
        ),
    ),
    (
        "a bad sender number is refused, flags nobody, and the supervisors hear every time",
        permanent("21212"),
        NOW,
        0.5,
        Decision(Outcome.REFUSED, next_channel="email", notice=Notice.ALWAYS),
    ),
    (
        "a refusal on the last real channel goes to the console",
        permanent("550", channel="email", route=("email",)),
        NOW,
        0.5,
        Decision(
            Outcome.REFUSED,
            next_channel="console",
            flag_channel=True,
            notice=Notice.IF_NEWLY_FLAGGED,
        ),
    ),
    (
        "a refused delivery-problem digest does not announce itself",
        permanent("21212", kind="delivery_problem"),
        NOW,
        0.5,
        Decision(Outcome.REFUSED, next_channel="email", notice=Notice.NONE),
    ),
    (
        "a transient failure within the window is retried after the first backoff step",
        REMINDER,
        NOW,
        0.0,
        Decision(Outcome.RETRY, at=NOW + 15 * SEC),
    ),
    (
        "a retry is never sooner than the provider's Retry-After, even past the switch",
        replace(REMINDER, retry_after=3600.0),
        NOW,
        0.0,
        Decision(Outcome.RETRY, at=NOW + 60 * MIN),
    ),
    (
        "a long backoff is cut short at the moment the fallback channel is due",
        replace(REMINDER, attempts=10, failing_since=NOW - 25 * MIN),
        NOW,
        0.9,
        Decision(Outcome.RETRY, at=NOW + 5 * MIN),
    ),
    (
        "a backoff is cut short at the last moment the message is worth sending",
        replace(REMINDER, attempts=10, failing_since=NOW - 60 * MIN, useful_until=NOW + 2 * MIN),
        NOW,
        0.9,
        Decision(Outcome.RETRY, at=NOW + 2 * MIN),
    ),
    (
        "a transient failure past the window is given up and the supervisors are told",
        REMINDER,
        REMINDER.useful_until,
        0.5,
        Decision(Outcome.GIVEN_UP, notice=Notice.ALWAYS),
    ),
    (
        "a delivery-problem digest given up tells nobody",
        replace(REMINDER, kind="delivery_problem"),
        REMINDER.useful_until + MIN,
        0.5,
        Decision(Outcome.GIVEN_UP, notice=Notice.NONE),
    ),
    (
        "a safety alert is never given up and retries within five minutes",
        replace(
            REMINDER,
            kind="alert",
            attempts=40,
            failing_since=NOW - 3 * 24 * 60 * MIN,
            useful_until=None,
        ),
        NOW,
        0.5,
        Decision(Outcome.RETRY, at=NOW + 225 * SEC),
    ),
    (
        "a safety alert retries in the quiet hours too",
        replace(REMINDER, kind="alert", useful_until=None),
        datetime(2026, 3, 23, 22, 0, tzinfo=UTC),
        0.0,
        Decision(Outcome.RETRY, at=datetime(2026, 3, 23, 22, 0, 15, tzinfo=UTC)),
    ),
    (
        "a reminder's retry that falls in the quiet hours waits for their end",
        replace(REMINDER, useful_until=None),
        datetime(2026, 3, 23, 18, 59, 50, tzinfo=UTC),  # 19:59:50 in Belgrade
        0.0,
        Decision(Outcome.RETRY, at=datetime(2026, 3, 24, 7, 0, tzinfo=UTC)),  # 08:00 local
    ),
    (
        "a failure after which the provider may have the message keeps it in doubt",
        replace(REMINDER, maybe_sent=True),
        NOW,
        0.0,
        Decision(Outcome.RETRY, at=NOW + 15 * SEC, in_doubt=True),
    ),
]


@pytest.mark.parametrize(
    ("failure", "now", "jitter", "expected"),
    [row[1:] for row in DECISIONS],
    ids=[row[0] for row in DECISIONS],
)
def test_the_decision_after_a_failed_send(failure, now, jitter, expected):
    assert decide(failure, RULES, now, jitter) == expected


def test_a_delivery_report_refusal_follows_the_same_rule_as_an_outright_one():
    assert refusal("reminder", "sms", "email", "30005") == decide(permanent("30005"), RULES, NOW, 0)
    assert refusal("reminder", "console", "console", "550").flag_channel is False


ROUTES = [
    ("a message failing less than the set minutes stays on its channel",
     "reminder", 29, ["sms", "email", "console"], ["sms", "email", "console"], Notice.NONE),
    ("after the set minutes it goes by the fallback channel and the supervisors hear",
     "reminder", 30, ["sms", "email", "console"], ["email", "console"], Notice.ALWAYS),
    ("a delivery-problem digest switches without a notice about itself",
     "delivery_problem", 30, ["sms", "email"], ["email"], Notice.NONE),
    ("a safety alert keeps its own route",
     "alert", 600, ["sms", "email", "console"], ["sms", "email", "console"], Notice.NONE),
    ("the console is nobody's phone: no switch to it",
     "reminder", 600, ["sms", "console"], ["sms", "console"], Notice.NONE),
    ("a message already on the fallback channel stays there",
     "reminder", 600, ["email", "sms"], ["email", "sms"], Notice.NONE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "minutes", "route", "expected", "notice"),
    [row[1:] for row in ROUTES],
    ids=[row[0] for row in ROUTES],
)
def test_the_fallback_switch_after_the_set_minutes(kind, minutes, route, expected, notice):
    failing_since = NOW - minutes * MIN
    assert by_fallback(kind, failing_since, route, "email", RULES, NOW) == (expected, notice)


def test_a_message_not_failing_stays_on_its_route():
    assert by_fallback("reminder", None, ["sms", "email"], "email", RULES, NOW) == (
        ["sms", "email"],
        Notice.NONE,
    )


IN_DOUBT = [
    ("a safety alert in doubt goes again at once",
     "alert", 1, 0, Decision(Outcome.SEND)),
    ("a reminder in doubt waits, asking again after the backoff",
     "reminder", 1, 10, Decision(Outcome.RETRY, at=NOW + 15 * SEC, in_doubt=True)),
    ("the wait never runs past the set minutes",
     "reminder", 12, 59, Decision(Outcome.RETRY, at=NOW + MIN, in_doubt=True)),
    ("after the set minutes it goes again without an answer",
     "reminder", 3, 60, Decision(Outcome.SEND)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "attempts", "minutes", "expected"),
    [row[1:] for row in IN_DOUBT],
    ids=[row[0] for row in IN_DOUBT],
)
def test_a_message_in_doubt_the_provider_cannot_be_asked_about(kind, attempts, minutes, expected):
    assert still_in_doubt(kind, attempts, NOW - minutes * MIN, RULES, NOW, 0.0) == expected


@pytest.mark.parametrize("attempts", range(1, 10))
def test_the_backoff_doubles_and_its_jitter_stays_in_the_upper_half_of_the_step(attempts):
    step = min(3600, 30 * 2 ** (attempts - 1))
    assert backoff_delay(attempts, None, 0.0) == timedelta(seconds=step / 2)
    assert backoff_delay(attempts, None, 0.5) == timedelta(seconds=step * 3 / 4)
    assert (
        timedelta(seconds=step / 2) < backoff_delay(attempts, None, 0.999) < timedelta(seconds=step)
    )


def test_a_safety_alert_backoff_is_capped_at_five_minutes():
    assert backoff_delay(30, None, 0.999, cap=300) < timedelta(minutes=5)


def test_the_same_inputs_give_the_same_decision():
    failure = replace(REMINDER, attempts=4)
    assert decide(failure, RULES, NOW, 0.37) == decide(failure, RULES, NOW, 0.37)
    assert decide(failure, RULES, NOW, 0.1) != decide(failure, RULES, NOW, 0.9)
