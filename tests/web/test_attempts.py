"""One-click contact attempts in the browser: from the work list and the follow-up page,
her plan enforced with a reason field to override it, and the wall.

The clock stands on Monday 7 December 2026 at 09:30 UTC (10:30 in Belgrade).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import Audit, ContactAttempt
from tests.test_attempts import NOW, WEEKDAYS_PHONE, set_plan
from tests.web.conftest import build_team

REASON = "she asked me to call at lunch osprey-2290"


@pytest.fixture
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def team(deployment, clock):
    built = build_team(deployment)
    set_plan(built, "P-1", WEEKDAYS_PHONE)
    return built


def hers(team) -> int:
    return team.followup_id("BG-1", "partner_first_contact", partner=True)


def his(team) -> int:
    return team.followup_id("BG-1", "intake_assessment")


def card(page: str, followup_id: int) -> str:
    """The list item of one follow-up on a work list page."""
    start = page.index(f'href="/followups/{followup_id}"')
    return page[page.rindex("<li", 0, start) : page.index("</li>", start)]


def test_her_worker_records_an_attempt_in_one_click_from_her_list(team):
    browser = team.browser("partner_support")
    page = browser.get("/followups").text
    mine = card(page, hers(team))
    assert f'action="/followups/{hers(team)}/attempt"' in mine
    assert '<option value="phone" selected>' in mine  # her plan's first channel
    assert '<option value="no_answer" selected>' in mine
    assert "Her next safe time: Mon 2026-12-07 10:00–12:00" in mine
    sent = browser.post(
        f"/followups/{hers(team)}/attempt",
        {"outcome": "no_answer", "channel": "phone", "back": "/followups?informant=partner"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/followups?informant=partner&attempted=scheduled"
    page = browser.get(sent.headers["location"]).text
    assert "Attempt recorded." in page
    assert "Attempts: 1 (last: No answer, 2026-12-07" in card(page, hers(team))
    assert team.followup(hers(team)).attempts == 1


def test_his_facilitator_gets_the_form_for_his_follow_up_and_never_her_plan(team):
    browser = team.browser("facilitator")
    page = browser.get("/followups").text
    assert f'action="/followups/{his(team)}/attempt"' in page
    assert "Her next safe time" not in page
    refused = browser.post(
        f"/followups/{hers(team)}/attempt", {"outcome": "no_answer", "channel": "phone"}
    )
    assert refused.status_code == 404
    assert team.followup(hers(team)).attempts == 0


def test_a_supervisor_sees_her_follow_up_but_no_form_and_no_plan(team):
    page = team.browser("supervisor").get("/followups?scope=site").text
    mine = card(page, hers(team))
    assert "/attempt" not in mine and "Her next safe time" not in mine


def test_outside_her_safe_times_it_is_refused_beside_the_form_then_recorded_with_a_reason(
    team, clock
):
    clock.move_to(datetime(2026, 12, 7, 11, 30, tzinfo=UTC))  # 12:30 in Belgrade
    browser = team.browser("partner_support")
    form = {"outcome": "reached", "channel": "phone", "back": "/followups"}
    refused = browser.post(f"/followups/{hers(team)}/attempt", form)
    assert refused.status_code == 422
    mine = card(refused.text, hers(team))
    problem = re.search(rf'id="attempt-problem-{hers(team)}">([^<]*)<', mine).group(1)
    assert "outside her safe times" in problem and "give a reason" in problem
    assert 'name="override_reason"' in mine and '<option value="reached" selected>' in mine
    assert team.followup(hers(team)).attempts == 0
    sent = browser.post(f"/followups/{hers(team)}/attempt", {**form, "override_reason": REASON})
    assert sent.status_code == 303
    with team.session() as session:
        row = session.execute(sa.select(ContactAttempt)).scalar_one()
        assert team.ctx.vault.open(row.override_sealed) == REASON
        detail = session.execute(
            sa.select(Audit.detail).where(Audit.action == "record_attempt")
        ).scalar_one()
    assert json.loads(detail)["override"] is True and "osprey" not in detail


def test_a_channel_she_did_not_allow_is_refused_on_the_follow_up_page(team):
    browser = team.browser("partner_support")
    refused = browser.post(
        f"/followups/{hers(team)}/attempt",
        {"outcome": "no_answer", "channel": "sms", "from": "followup"},
    )
    assert refused.status_code == 422
    assert "does not allow contact by sms" in refused.text
    assert f'id="attempt-reason-{hers(team)}"' in refused.text


def test_from_the_follow_up_page_an_attempt_can_re_confirm_her_plan(team):
    browser = team.browser("partner_support")
    page = browser.get(f"/followups/{hers(team)}").text
    assert "Contact attempts" in page and 'name="plan_confirmed"' in page
    sent = browser.post(
        f"/followups/{hers(team)}/attempt",
        {"outcome": "reached", "channel": "phone", "from": "followup", "plan_confirmed": "yes"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/followups/{hers(team)}?saved=attempt"
    page = browser.get(sent.headers["location"]).text
    assert "Attempt recorded." in page and "Attempts: 1 (last: Reached" in page
    assert str(team.partner("P-1").plan_confirmed_on) == "2026-12-07"


def test_the_third_unanswered_call_takes_it_off_the_list(team):
    browser = team.browser("partner_support")
    for _ in range(3):
        sent = browser.post(
            f"/followups/{hers(team)}/attempt",
            {"outcome": "no_answer", "channel": "phone", "back": "/followups"},
        )
    assert sent.headers["location"] == "/followups?attempted=unreachable"
    page = browser.get(sent.headers["location"]).text
    assert "now unreachable and has left the list" in page
    assert f'href="/followups/{hers(team)}"' not in page
    assert team.followup(hers(team)).status == "unreachable"
    assert '<span class="badge unreachable" id="status">Unreachable</span>' in (
        browser.get(f"/followups/{hers(team)}").text
    )
    assert ">Unreachable</span>" in browser.get("/partners/P-1").text


def test_an_attempt_without_the_csrf_token_is_refused(team):
    browser = team.browser("partner_support")
    sent = browser.post(
        f"/followups/{hers(team)}/attempt", {"outcome": "no_answer", "channel": "phone"}, csrf=False
    )
    assert sent.status_code in (400, 403)
    assert team.followup(hers(team)).attempts == 0
