"""Safety alerts: listed for the people told, acknowledged once, within the wall."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from followup.clock import RunningFrom
from followup.models import Audit, SafetyAlert

ACTED = {"action": "contacted_her"}  # acknowledging records what was done


def her_interview_reports_violence(team) -> int:
    followup_id = team.followup_id("BG-1", "partner_first_contact", partner=True)
    response = team.browser("partner_support").post(
        f"/followups/{followup_id}",
        {
            "safe_to_talk": "yes",
            "conducted_on": team.ctx.site_today("BG").isoformat(),
            "violence_sexual": "yes",
        },
    )
    assert response.status_code == 303
    with team.session() as session:
        return session.execute(sa.select(SafetyAlert.id)).scalar_one()


def test_open_alerts_of_ones_own_site_are_listed_and_acknowledging_moves_them_off_the_list(
    team, samples
):
    browser = team.browser("supervisor")
    page = browser.get("/alerts").text
    assert f'href="/alerts/{samples["bg_alert"]}"' in page and "BG-1" in page
    assert f'href="/alerts/{samples["ns_alert"]}"' not in page and "NS-1" not in page
    response = browser.post(f"/alerts/{samples['bg_alert']}/acknowledge", ACTED)
    assert response.headers["location"] == f"/alerts/{samples['bg_alert']}?saved=1"
    detail = browser.get(response.headers["location"]).text
    assert "Acknowledged by Vesna Ilić at" in detail
    assert "No open safety alerts." in browser.get("/alerts").text
    assert "BG-1" in browser.get("/alerts?show=all").text
    with team.session() as session:
        alert = session.get(SafetyAlert, samples["bg_alert"])
        rows = (
            session.execute(sa.select(Audit.actor).where(Audit.action == "acknowledge_alert"))
            .scalars()
            .all()
        )
    assert alert.acknowledged_by == "SV1" and alert.acknowledged_at is not None
    assert rows == ["web:supervisor"]


def test_an_acknowledgement_is_dated_by_the_services_clock_not_the_system(team, samples):
    browser = team.browser("supervisor")
    drill = team.ctx.now() + timedelta(minutes=10)  # `followup serve --now` for a drill
    team.ctx.clock = RunningFrom(drill)
    assert browser.post(f"/alerts/{samples['bg_alert']}/acknowledge", ACTED).status_code == 303
    with team.session() as session:
        acknowledged_at = session.get(SafetyAlert, samples["bg_alert"]).acknowledged_at
    assert drill <= acknowledged_at < drill + timedelta(minutes=1)


def test_a_second_acknowledgement_keeps_the_first_ones_name(team, samples):
    team.browser("supervisor").post(f"/alerts/{samples['bg_alert']}/acknowledge", ACTED)
    team.browser("partner_support").post(f"/alerts/{samples['bg_alert']}/acknowledge", ACTED)
    with team.session() as session:
        assert session.get(SafetyAlert, samples["bg_alert"]).acknowledged_by == "SV1"
        assert (
            session.execute(
                sa.select(sa.func.count())
                .select_from(Audit)
                .where(Audit.action == "acknowledge_alert")
            ).scalar_one()
            == 1
        )


def test_what_she_reported_is_shown_to_her_worker_but_not_to_a_supervisor_without_partner_support(
    team,
):
    alert_id = her_interview_reports_violence(team)
    worker = team.browser("partner_support").get(f"/alerts/{alert_id}").text
    assert "Violence reported in a partner interview" in worker and "Sexual" in worker
    assert 'href="/partners/P-1"' in worker
    supervisor = team.browser("supervisor").get(f"/alerts/{alert_id}").text
    assert "Violence reported in a partner interview" in supervisor
    assert "Sexual" not in supervisor and "P-1" not in supervisor


def test_another_sites_alert_is_404_like_one_that_does_not_exist(team, samples):
    browser = team.browser("partner_support")
    other, missing = browser.get(f"/alerts/{samples['ns_alert']}"), browser.get("/alerts/999999")
    assert (
        (other.status_code, other.text)
        == (missing.status_code, missing.text)
        == (404, missing.text)
    )
    assert browser.post(f"/alerts/{samples['ns_alert']}/acknowledge").status_code == 404
    with team.session() as session:
        assert session.get(SafetyAlert, samples["ns_alert"]).acknowledged_at is None
