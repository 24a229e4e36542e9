"""The partner wall in the web app: no page, search, error or list a facilitator can open
says anything about a partner — not even whether one exists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from followup.models import Audit, FollowUp, Participant, Partner
from tests.web.conftest import HER_EMAIL, HER_PHONE


def record_her_side(team) -> None:
    """Her interview reporting violence, a report from her, and her consent withdrawn."""
    today = team.ctx.site_today("BG")
    followup_id = team.followup_id("BG-1", "partner_first_contact", partner=True)
    ps = team.browser("partner_support")
    assert (
        ps.post(
            f"/followups/{followup_id}",
            {
                "safe_to_talk": "yes",
                "conducted_on": (today - timedelta(days=2)).isoformat(),
                "violence_coercive": "yes",
                "notes": "He follows her to work.",
            },
        ).status_code
        == 303
    )
    result = team.deployment.run(
        "record",
        "recidivism",
        "BG-1",
        "--on",
        (today - timedelta(days=1)).isoformat(),
        "--source",
        "partner",
        "--partner",
        "P-1",
        "--psychological",
        "yes",
    )
    assert result.exit_code == 0, result.err
    assert (
        ps.post(
            "/partners/P-1/consent", {"consent": "withdrawn", "on": today.isoformat()}
        ).status_code
        == 303
    )


HERS = (
    "P-1",
    HER_PHONE,
    HER_EMAIL,
    "10:00-12:00",
    "He follows her to work",
    "Partner",
    "Partnerka",
    "Consent",
    "partner",
)


def test_a_facilitator_asking_for_a_partner_gets_the_same_404_as_for_one_that_does_not_exist(team):
    browser = team.browser("facilitator")
    real, missing = browser.get("/partners/P-1"), browser.get("/partners/P-404")
    assert real.status_code == missing.status_code == 404
    assert real.text == missing.text
    assert "P-1" not in real.text
    for action in ("reveal", "consent", "do-not-contact", "plan", "plan/confirm"):
        real, missing = (
            browser.post(f"/partners/P-1/{action}"),
            browser.post(f"/partners/P-404/{action}"),
        )
        assert (
            (real.status_code, real.text)
            == (missing.status_code, missing.text)
            == (404, missing.text)
        )


def test_a_partner_support_worker_cannot_tell_another_sites_partner_from_a_missing_one(team):
    browser = team.browser("partner_support")
    other, missing = browser.get("/partners/P-NS1"), browser.get("/partners/P-404")
    assert (other.status_code, other.text) == (missing.status_code, missing.text)
    his, nobody = browser.get("/participants/NS-1"), browser.get("/participants/NS-404")
    assert (his.status_code, his.text) == (nobody.status_code, nobody.text) == (404, nobody.text)


def test_the_participant_page_shows_a_facilitator_nothing_about_his_partners(team):
    record_her_side(team)
    page = team.browser("facilitator").get("/participants/BG-1").text
    assert "Case BG-1" in page and "Intake assessment" in page
    for hers in HERS:
        assert hers not in page, hers
    assert "New violence reported" not in page  # her report of violence is hers
    assert "Consent withdrawn" not in page and "Partners" not in page


def test_the_participant_page_shows_her_side_to_her_worker_and_is_audited(team):
    record_her_side(team)
    page = team.browser("partner_support").get("/participants/BG-1").text
    assert 'href="/partners/P-1"' in page and "Consent withdrawn" in page
    assert (
        "Coercive control" in page and "He follows her to work" not in page
    )  # her notes: on her page
    with team.session() as session:
        row = session.execute(
            sa.select(Audit).where(Audit.action == "read_partner", Audit.entity == "participant")
        ).scalar_one()
    assert row.actor == "web:partner_support" and '"P-1"' in row.detail


def test_a_supervisor_without_partner_support_sees_her_follow_ups_status_and_nothing_else(team):
    record_her_side(team)
    browser = team.browser("supervisor")
    page = browser.get("/participants/BG-1").text
    assert "First partner contact" in page and "Done" in page and "Partners" in page
    for hers in (
        "P-1",
        HER_PHONE,
        "10:00-12:00",
        "He follows her to work",
        "Consent withdrawn",
        "New violence reported",
        "Coercive control",
    ):
        assert hers not in page, hers
    assert browser.get("/partners/P-1").status_code == 404


def test_nothing_of_hers_appears_on_any_page_a_facilitator_can_open(team):
    record_her_side(team)
    browser = team.browser("facilitator")
    pages = [
        "/followups",
        "/followups?scope=site",
        "/participants/BG-1",
        "/search?q=P-",
        "/search?q=BG",
        "/account",
        *(f"/followups/{i}" for i in _his_followups(team)),
    ]
    for path in pages:
        page = browser.get(path)
        assert page.status_code == 200, path
        for hers in (
            HER_PHONE,
            HER_EMAIL,
            "P-1",
            "10:00-12:00",
            "He follows her to work",
            "partner_first",
        ):
            assert hers not in page.text, (path, hers)


def _his_followups(team) -> list[int]:
    with team.session() as session:
        return list(
            session.execute(
                sa.select(FollowUp.id)
                .join(Participant, Participant.id == FollowUp.participant_id)
                .where(FollowUp.partner_id.is_(None), Participant.case_id == "BG-1")
            ).scalars()
        )


def test_her_follow_ups_are_404_to_a_facilitator_by_url(team):
    followup_id = team.followup_id("BG-1", "partner_first_contact", partner=True)
    browser = team.browser("facilitator")
    assert browser.get(f"/followups/{followup_id}").text == browser.get("/followups/999999").text
    assert browser.get(f"/followups/{followup_id}").status_code == 404


def test_search_finds_partners_only_for_partner_support_and_only_at_their_site(team):
    assert "P-1" not in team.browser("facilitator").get("/search?q=P-").text
    assert "P-1" not in team.browser("supervisor").get("/search?q=P-").text
    page = team.browser("partner_support").get("/search?q=p-").text
    assert 'href="/partners/P-1"' in page and "P-NS1" not in page
    assert "NS-1" not in team.browser("facilitator").get("/search?q=NS").text
    everything = team.browser("admin").get("/search?q=P-").text
    assert "P-1" in everything and "P-NS1" in everything


def test_search_text_is_a_prefix_not_a_pattern(team):
    page = team.browser("partner_support").get("/search?q=%25").text
    assert "P-1" not in page and "BG-1" not in page


def test_her_page_is_audited_and_her_contact_details_need_a_second_audited_step(team):
    browser = team.browser("partner_support")
    page = browser.get("/partners/P-1").text
    assert "Partner P-1" in page and "10:00-12:00" in page and "Phone call" in page
    assert HER_PHONE not in page and HER_EMAIL not in page
    shown = browser.post("/partners/P-1/reveal").text
    assert HER_PHONE in shown and HER_EMAIL in shown
    with team.session() as session:
        rows = session.execute(
            sa.select(Audit.action, Audit.actor, Audit.entity_id, Audit.detail)
            .where(Audit.entity == "partner")
            .order_by(Audit.id)
        ).all()
    assert [(r.action, r.actor, r.entity_id) for r in rows] == [
        ("read_partner", "web:partner_support", "P-1"),
        ("read_safe_plan", "web:partner_support", "P-1"),
        ("reveal_contact", "web:partner_support", "P-1"),
        ("read_safe_plan", "web:partner_support", "P-1"),
    ]
    assert all(HER_PHONE not in (r.detail or "") for r in rows)


def test_withdrawing_consent_on_her_page_cancels_every_pending_contact_with_her(team):
    browser = team.browser("partner_support")
    today = team.ctx.site_today("BG").isoformat()
    response = browser.post("/partners/P-1/consent", {"consent": "withdrawn", "on": today})
    assert response.headers["location"] == "/partners/P-1?saved=consent_withdrawn"
    page = browser.get(response.headers["location"]).text
    assert "every pending contact with her is cancelled" in page
    with team.session() as session:
        her = session.execute(sa.select(Partner).where(Partner.partner_id == "P-1")).scalar_one()
        pending = session.execute(
            sa.select(FollowUp).where(FollowUp.partner_id == her.id, FollowUp.status == "scheduled")
        ).all()
        actors = (
            session.execute(sa.select(Audit.actor).where(Audit.action == "consent_withdrawn"))
            .scalars()
            .all()
        )
    assert her.consent_withdrawn_on.isoformat() == today and pending == []
    assert actors == ["web:partner_support"]


def test_do_not_contact_cancels_her_follow_ups_and_can_be_lifted(team):
    browser = team.browser("supervisor_ps")
    today = team.ctx.site_today("BG").isoformat()
    assert (
        browser.post("/partners/P-1/do-not-contact", {"flag": "set", "on": today}).status_code
        == 303
    )
    assert team.partner("P-1").do_not_contact is True
    assert "Do not contact. No follow-up with her is planned." in browser.get("/partners/P-1").text
    assert (
        browser.post("/partners/P-1/do-not-contact", {"flag": "lift", "on": today}).status_code
        == 303
    )
    assert team.partner("P-1").do_not_contact is False


def test_her_safe_contact_plan_is_checked_next_to_the_field(team):
    browser = team.browser("partner_support")
    response = browser.post(
        "/partners/P-1/plan", {"channel_sms": "yes", "safe_times": "noon", "voicemail_ok": "maybe"}
    )
    assert response.status_code == 422
    assert re.search(
        r'id="safe_times-error">Write safe times as Mon-Fri 10:00-12:00', response.text
    )
    assert re.search(r'id="voicemail_ok-error">Choose one of the options.<', response.text)
    assert team.plan("P-1").safe_times_text == "10:00-12:00"
    ok = browser.post(
        "/partners/P-1/plan", {"channel_sms": "yes", "safe_times": "09:00-10:00, 17:00-18:00"}
    )
    assert ok.status_code == 303
    assert team.plan("P-1").safe_times_text == "09:00-10:00; 17:00-18:00"
    assert set(team.plan("P-1").channels) == {"sms"} and team.partner("P-1").channel == "sms"


def test_a_refused_change_says_why_at_the_top_and_changes_nothing(team):
    browser = team.browser("partner_support")
    tomorrow = (team.ctx.site_today("BG") + timedelta(days=1)).isoformat()
    response = browser.post("/partners/P-1/consent", {"consent": "withdrawn", "on": tomorrow})
    assert response.status_code == 422
    assert re.search(r'id="on-error">This date is in the future.<', response.text)
    assert team.partner("P-1").consent_withdrawn_on is None


# --- the wall is by person: the man's facilitator, whatever roles he holds ----------------

HIS_PHONE_FOR_HER = "+381609876543"  # her number, planted to look for leaks


def his_facilitator_holding(team, roles: str, *, staff_id: str = "FX1", case_id: str = "BG-2"):
    """A member of staff at BG with `roles` who facilitates `case_id`, whose partner
    P-<case> is supported by PS1; their login is `staff_id` lower-cased."""
    deployment = team.deployment
    staff = deployment.csv(
        f"staff-{staff_id}.csv",
        "staff_id,site,name,roles,phone,email,channel,language\n"
        f"{staff_id},BG,Goran Pavlović,{roles},,goran@example.org,console,en\n",
    )
    today = team.ctx.site_today("BG")
    partner_id = "P-" + case_id.split("-")[1]
    steps = [
        ("import", "staff", str(staff)),
        (
            "enrol",
            case_id,
            "--site",
            "BG",
            "--referral-source",
            "court",
            "--enrolled-on",
            (today - timedelta(days=10)).isoformat(),
            "--facilitator",
            staff_id,
            "--protocol",
            "undp-serbia",
        ),
        (
            "import",
            "partners",
            str(
                deployment.csv(
                    f"partners-{case_id}.csv",
                    "partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker\n"
                    f"{partner_id},{case_id},current,{(today - timedelta(days=5)).isoformat()},"
                    f"phone,{HIS_PHONE_FOR_HER},,PS1\n",
                )
            ),
        ),
    ]
    for step in steps:
        result = deployment.run(*step)
        assert result.exit_code == 0, result.err
    from followup.operations.accounts import add_account
    from tests.web.conftest import PASSWORD

    with deployment.session() as session:
        add_account(
            session,
            deployment.ctx,
            username=staff_id.lower(),
            staff_id=staff_id,
            roles=roles.split(";"),
            password=PASSWORD,
            language="en",
        )
    return team.browser(staff_id.lower()), partner_id


def test_his_facilitator_with_partner_support_cannot_open_her_record(team):
    browser, hers = his_facilitator_holding(team, "facilitator;partner_support;supervisor")
    assert browser.get("/partners/P-1").status_code == 200  # another man's partner: his work
    real, missing = browser.get(f"/partners/{hers}"), browser.get("/partners/P-404")
    assert (real.status_code, real.text) == (missing.status_code, missing.text)
    assert real.status_code == 404 and HIS_PHONE_FOR_HER not in real.text


def test_his_facilitator_with_partner_support_can_neither_reveal_nor_change_her_record(team):
    browser, hers = his_facilitator_holding(team, "facilitator;partner_support;supervisor")
    today = team.ctx.site_today("BG").isoformat()
    forms = {
        "reveal": {},
        "consent": {"consent": "withdrawn", "on": today},
        "do-not-contact": {"flag": "set", "on": today},
        "plan": {"channel_sms": "yes", "safe_times": "09:00-10:00"},
        "plan/confirm": {},
    }
    plan_before = team.partner(hers).plan_sealed
    for action, form in forms.items():
        real = browser.post(f"/partners/{hers}/{action}", form)
        missing = browser.post(f"/partners/P-404/{action}", form)
        assert (real.status_code, real.text) == (missing.status_code, missing.text), action
        assert real.status_code == 404 and HIS_PHONE_FOR_HER not in real.text
    her = team.partner(hers)
    assert her.consent_withdrawn_on is None and not her.do_not_contact
    assert her.plan_sealed == plan_before and her.plan_confirmed_on is None
    with team.session() as session:
        read = session.execute(
            sa.select(Audit.action).where(Audit.entity == "partner", Audit.entity_id == hers)
        ).all()
    assert read == []


def test_his_facilitator_with_partner_support_finds_nothing_of_hers_on_any_page(team):
    browser, hers = his_facilitator_holding(team, "facilitator;partner_support;supervisor")
    her_followup = team.followup_id("BG-2", "partner_first_contact", partner=True)
    assert her_followup is not None
    for path in (
        "/followups",
        "/followups?scope=site",
        "/participants/BG-2",
        "/search?q=P-",
        "/alerts?show=all",
    ):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert hers not in page.text and HIS_PHONE_FOR_HER not in page.text, path
        assert f"/followups/{her_followup}" not in page.text, path
    assert "Partners" not in browser.get("/participants/BG-2").text  # not even how many
    assert "P-1" in browser.get("/search?q=P-").text  # the women he does support
    real, missing = browser.get(f"/followups/{her_followup}"), browser.get("/followups/999999")
    assert (real.status_code, real.text) == (missing.status_code, missing.text)
    assert browser.post(f"/followups/{her_followup}", {}).status_code == 404


def test_his_facilitator_is_neither_told_of_nor_shown_the_safety_alert_raised_for_her(team):
    from followup.models import Outbox, SafetyAlert, Staff

    browser, hers = his_facilitator_holding(team, "facilitator;partner_support;supervisor")
    today = team.ctx.site_today("BG").isoformat()
    result = team.deployment.run(
        "record", "recidivism", "BG-2", "--on", today, "--source", "partner",
        "--partner", hers, "--physical", "yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.err
    with team.session() as session:
        alert_id = session.execute(sa.select(SafetyAlert.id)).scalar_one()
        told = set(
            session.execute(
                sa.select(Staff.staff_id)
                .join(Outbox, Outbox.staff_id == Staff.id)
                .where(Outbox.alert_id == alert_id)
            ).scalars()
        )
    assert "PS1" in told and "SV1" in told and "FX1" not in told
    real, missing = browser.get(f"/alerts/{alert_id}"), browser.get("/alerts/999999")
    assert (real.status_code, real.text) == (missing.status_code, missing.text)
    assert f"/alerts/{alert_id}" not in browser.get("/alerts?show=all").text
    assert browser.post(f"/alerts/{alert_id}/acknowledge").status_code == 404
    assert team.browser("supervisor").get(f"/alerts/{alert_id}").status_code == 200


def test_an_administrator_who_facilitates_him_is_walled_off_from_her_too(team):
    browser, hers = his_facilitator_holding(team, "facilitator;admin", staff_id="FA1")
    assert browser.get("/partners/P-1").status_code == 200
    real, missing = browser.get(f"/partners/{hers}"), browser.get("/partners/P-404")
    assert (real.status_code, real.text) == (missing.status_code, missing.text)
    assert hers not in browser.get("/search?q=P-").text
    assert hers not in browser.get("/participants/BG-2").text


def test_safe_times_with_a_line_break_are_refused_by_the_rule_the_import_uses(team):
    browser = team.browser("partner_support")
    response = browser.post(
        "/partners/P-1/plan", {"channel_sms": "yes", "safe_times": "09:00-10:00\r\nX"}
    )
    assert response.status_code == 422
    assert re.search(r'id="safe_times-error">Write safe times as', response.text)
    assert team.plan("P-1").safe_times_text == "10:00-12:00"


def test_the_plan_operation_refuses_bad_safe_times_whoever_calls_it(team):
    from followup.errors import InvalidRecord
    from followup.her_plan import PlanInput
    from followup.operations.policy import operator
    from followup.operations.safe_plan import edit_safe_plan

    refused = pytest.raises(InvalidRecord, match="safe_times: expected safe times such as")
    with refused, team.session() as session:
        edit_safe_plan(
            session, team.ctx, operator("ops"), "P-1", PlanInput(("sms",), safe_times="all day")
        )
    assert team.plan("P-1").safe_times_text == "10:00-12:00"
