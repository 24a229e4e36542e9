"""Her safe-contact plan in the browser: first on her follow-up's page, "safe to call now"
at the edges of her window in her site's zone, the numbers behind the audited "show", the
plan forms round-trip, "Was it safe to talk?", and nothing of it on his side."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from followup.models import Audit, ContactAttempt, Interview
from tests.web.conftest import HER_PHONE

CODE_WORD = "zelena-kapija-0815"


def words(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def hers(team) -> int:
    return team.followup_id("BG-1", "partner_first_contact", partner=True)


def at_local(team, local: time, days: int = 0) -> None:
    """Stop the service's clock at `local` on her site's today (+ `days`), in BG's zone."""
    zone = team.ctx.config.sites["BG"].zone
    day = team.ctx.site_today("BG") + timedelta(days=days)
    instant = datetime.combine(day, local, tzinfo=zone).astimezone(UTC)
    team.ctx.clock = lambda: instant


def full_plan(**changes) -> dict:
    form = {
        "channel_phone": "yes",
        "channel_email": "yes",
        "detail_email": "safe.address@example.net",
        "safe_times": "Mon-Fri 10:00-12:00; Sat 09:00-11:00",
        "voicemail_ok": "no",
        "may_name_organisation": "no",
        "code_word": CODE_WORD,
        "if_someone_else_answers": "Say it is the pharmacy and hang up",
    }
    form.update(changes)
    return form


# --- her follow-up's page ----------------------------------------------------------------


def test_her_follow_up_page_shows_her_plan_before_anything_else(team):
    browser = team.browser("partner_support")
    assert browser.post("/partners/P-1/plan", full_plan()).status_code == 303
    page = browser.get(f"/followups/{hers(team)}").text
    assert page.index('id="safe-plan"') < page.index('class="facts"')
    text = words(page)
    assert "Do NOT leave a message" in text and "Do NOT name the organisation" in text
    assert CODE_WORD in text and "Say it is the pharmacy and hang up" in text
    assert "Mon-Fri 10:00-12:00; Sat 09:00-11:00" in text and "Europe/Belgrade" in text
    assert "Plan never confirmed with her" in text
    assert HER_PHONE not in page and "safe.address@example.net" not in page


def test_the_numbers_in_her_plan_are_shown_only_after_the_audited_show(team):
    browser = team.browser("partner_support")
    followup_id = hers(team)
    assert HER_PHONE not in browser.get(f"/followups/{followup_id}").text
    shown = browser.post(f"/followups/{followup_id}/reveal")
    assert shown.status_code == 200 and HER_PHONE in shown.text
    with team.session() as session:
        reads = session.execute(
            sa.select(Audit.action, Audit.detail).where(Audit.action == "read_safe_plan")
        ).all()
    assert len(reads) == 2 and all(HER_PHONE not in (d or "") for _, d in reads)


def test_safe_to_call_now_holds_from_the_first_minute_of_her_window_to_just_before_its_end(team):
    """Her window (imported as the old safe_hours 10:00-12:00, every day) read in BG's
    zone: whatever UTC says."""
    url = f"/followups/{hers(team)}"

    def page_at(local: time) -> str:
        at_local(team, local)
        return words(team.browser("partner_support").get(url).text)

    early, opening, closing, after = (
        page_at(time(*t)) for t in ((9, 59), (10, 0), (11, 59), (12, 0))
    )
    tomorrow = (team.ctx.site_today("BG") + timedelta(days=1)).strftime("%a")
    assert "Not a safe time — next safe time: " in early and "10:00–12:00" in early
    assert "Safe to call now (until 12:00)" in opening
    assert "Safe to call now (until 12:00)" in closing
    assert f"Not a safe time — next safe time: {tomorrow} 10:00–12:00" in after


def test_plan_confirmed_with_her_today_clears_the_flag_on_her_pages(team):
    browser = team.browser("partner_support")
    followup_id = hers(team)
    assert "Plan never confirmed with her" in words(browser.get("/partners/P-1").text)
    response = browser.post(f"/followups/{followup_id}/plan-confirmed")
    assert response.status_code == 303
    assert team.partner("P-1").plan_confirmed_on == team.ctx.site_today("BG")
    assert "Plan never confirmed" not in browser.get(f"/followups/{followup_id}").text
    assert "plan-flag" not in browser.get("/followups").text
    assert "Plan never confirmed" not in browser.get("/partners/P-1").text


def test_a_plan_confirmed_reconfirm_plan_days_ago_is_flagged_again(team):
    team.browser("partner_support").post("/partners/P-1/plan/confirm")
    every = team.ctx.config.partner.reconfirm_plan_days
    at_local(team, time(10, 30), days=every - 1)
    before = team.browser("partner_support").get("/partners/P-1").text
    at_local(team, time(10, 30), days=every)
    on_the_day = words(team.browser("partner_support").get("/partners/P-1").text)
    assert "Plan not confirmed since" not in before and 'id="safe-plan"' in before
    assert "Plan not confirmed since" in on_the_day


# --- the forms -----------------------------------------------------------------------------


def test_her_plan_form_round_trips_every_field(team):
    browser = team.browser("partner_support")
    assert browser.post("/partners/P-1/plan", full_plan(voicemail_ok="yes")).status_code == 303
    plan = team.plan("P-1")
    assert plan.channels == {"phone": HER_PHONE, "email": "safe.address@example.net"}
    assert plan.safe_times_text == "Mon-Fri 10:00-12:00; Sat 09:00-11:00"
    assert plan.voicemail_ok and not plan.may_name_organisation
    assert plan.code_word == CODE_WORD
    assert plan.if_someone_else_answers == "Say it is the pharmacy and hang up"
    page = browser.get("/partners/P-1").text
    assert 'name="channel_email" value="yes" id="channel_email" checked' in page
    assert 'value="Mon-Fri 10:00-12:00; Sat 09:00-11:00"' in page
    assert "safe.address@example.net" not in page  # numbers are never put back in the form
    # Saved again without typing the numbers: they stay.
    assert browser.post("/partners/P-1/plan", full_plan(detail_email="")).status_code == 303
    assert team.plan("P-1").channels["email"] == "safe.address@example.net"


def test_a_new_partners_plan_is_taken_from_the_enrol_form(team):
    browser = team.browser("partner_support")
    form = {
        "partner_id": "P-9",
        "relationship": "ex",
        "consent_on": "",
        "support_worker": "PS1",
        "phone": "+381609999999",
        "email": "",
        **full_plan(
            channel_email="", detail_email="", channel_sms="yes", may_name_organisation="yes"
        ),
    }
    response = browser.post("/participants/BG-1/partners/new", form)
    assert response.status_code == 303, response.text
    plan = team.plan("P-9")
    assert plan.channels == {"phone": "+381609999999", "sms": "+381609999999"}
    assert plan.may_name_organisation and not plan.voicemail_ok
    assert plan.code_word == CODE_WORD and team.partner("P-9").channel == "phone"


def test_a_channel_with_no_number_is_refused_and_nothing_changes(team):
    browser = team.browser("ns_partner_support")  # P-NS1 has a phone and no e-mail
    before = team.partner("P-NS1").plan_sealed
    response = browser.post("/partners/P-NS1/plan", {"channel_email": "yes", "safe_times": ""})
    assert response.status_code == 422
    assert "allowed_channels: email is allowed but she has no email on file" in response.text
    assert team.partner("P-NS1").plan_sealed == before


def test_nothing_of_her_plan_is_stored_in_clear(team):
    team.browser("partner_support").post("/partners/P-1/plan", full_plan())
    path = team.deployment.database_url.removeprefix("sqlite:///")
    if path == team.deployment.database_url:
        return  # PostgreSQL: the same sealed column; the file check is SQLite's
    data = open(path, "rb").read()  # noqa: SIM115
    for planted in (CODE_WORD, "pharmacy", "safe.address@example.net", "Sat 09:00-11:00"):
        assert planted.encode() not in data, planted


# --- "Was it safe to talk?" -----------------------------------------------------------------


def test_the_interview_with_her_starts_with_was_it_safe_to_talk(team):
    browser = team.browser("partner_support")
    page = browser.get(f"/followups/{hers(team)}").text
    assert page.index("Was it safe to talk?") < page.index('name="conducted_on"')
    his = team.followup_id("BG-1", "intake_assessment")
    assert "Was it safe to talk?" not in team.browser("facilitator").get(f"/followups/{his}").text


def test_not_answering_was_it_safe_to_talk_records_nothing(team):
    browser = team.browser("partner_support")
    today = team.ctx.site_today("BG").isoformat()
    response = browser.post(f"/followups/{hers(team)}", {"conducted_on": today})
    assert response.status_code == 422
    assert 'id="safe_to_talk-error">Say whether it was safe to talk.' in response.text
    with team.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Interview)).scalar() == 0


def test_not_safe_to_talk_records_an_attempt_and_no_interview(team):
    browser = team.browser("partner_support")
    followup_id = hers(team)
    today = team.ctx.site_today("BG").isoformat()
    response = browser.post(
        f"/followups/{followup_id}",
        {"safe_to_talk": "no", "conducted_on": today, "mode": "phone", "violence_physical": "yes"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/followups/{followup_id}?saved=unsafe"
    assert "no interview was recorded" in browser.get(response.headers["location"]).text
    with team.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Interview)).scalar() == 0
        attempt = session.execute(sa.select(ContactAttempt)).scalar_one()
    assert (attempt.followup_id, attempt.outcome, attempt.channel) == (
        followup_id,
        "unsafe_to_talk",
        "phone",
    )
    followup = team.followup(followup_id)
    assert followup.status == "scheduled" and followup.attempts == 1
    assert followup.unreached_attempts == 0


def test_safe_to_talk_with_plan_re_confirmed_records_the_interview_and_confirms_the_plan(team):
    browser = team.browser("partner_support")
    followup_id = hers(team)
    response = browser.post(
        f"/followups/{followup_id}",
        {
            "safe_to_talk": "yes",
            "plan_confirmed": "yes",
            "conducted_on": team.ctx.site_today("BG").isoformat(),
            "violence_physical": "no",
        },
    )
    assert response.status_code == 303
    assert team.followup(followup_id).status == "completed"
    assert team.partner("P-1").plan_confirmed_on == team.ctx.site_today("BG")


# --- his side ---------------------------------------------------------------------------------


def test_his_facilitator_sees_no_plan_anywhere(team):
    team.browser("partner_support").post("/partners/P-1/plan", full_plan())
    facilitator = team.browser("facilitator")
    his = team.followup_id("BG-1", "intake_assessment")
    for url in ("/followups", f"/followups/{his}", "/participants/BG-1", "/caseload"):
        page = facilitator.get(url).text
        assert CODE_WORD not in page and "safe-plan" not in page and "plan-flag" not in page, url
    for url in (f"/followups/{hers(team)}/reveal", f"/followups/{hers(team)}/plan-confirmed"):
        assert facilitator.post(url).status_code == 404, url
    assert facilitator.get(f"/followups/{hers(team)}").status_code == 404
