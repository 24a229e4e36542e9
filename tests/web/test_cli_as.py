"""The CLI and the web are two edges of one floor: the same operation gives the same
answer, and the CLI acts as an explicit person — `--as USERNAME` (that account's roles
and sites, the partner wall included) or, by default, the operator as administrator."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import sqlalchemy as sa

from followup.context import _os_user
from followup.models import Audit
from tests.web.test_followups import move
from tests.web.test_partner_wall import his_facilitator_holding

LOGIN = _os_user()


def _run(team, *args):
    result = team.deployment.run(*args)
    assert result.exit_code == 0, result.err
    return result


def _due(team, *args) -> list[dict]:
    return json.loads(_run(team, "due", "--format", "json", *args).out)


def _web_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/followups/(\d+)"', page)}


def _actors(team, action: str) -> list[str]:
    with team.session() as session:
        return list(
            session.execute(
                sa.select(Audit.actor).where(Audit.action == action).order_by(Audit.id)
            ).scalars()
        )


def test_followup_due_and_my_follow_ups_answer_the_same_caseload_for_the_same_person(team):
    move(team, team.followup_id("BG-1", "intake_assessment"), -20)  # one of his overdue
    move(team, team.followup_id("BG-1", "partner_first_contact", partner=True), -20)  # hers
    for login, staff_id in (("partner_support", "PS1"), ("facilitator", "F1")):
        cli = _due(team, "--as", login, "--staff", staff_id, "--days", "42")
        web = team.browser(login).get("/followups")
        assert cli and {item["followup_id"] for item in cli} == _web_ids(web.text), login
        overdue = web.text.split('id="group-overdue"', 1)[1].split("</section>", 1)[0]
        assert _web_ids(overdue)
        assert {i["followup_id"] for i in cli if i["status"] == "overdue"} == _web_ids(overdue)


def test_a_facilitator_acting_with_as_is_shown_no_partner_follow_up(team):
    everyone = _due(team, "--days", "365")
    assert any(item["subject"] == "partner" for item in everyone)  # the operator sees hers
    his = _due(team, "--as", "facilitator", "--days", "365")
    assert his and all(item["subject"] == "participant" for item in his)
    assert {item["case_id"] for item in his} == {"BG-1"}  # his site only


def test_the_wall_is_by_person_on_the_command_line_too(team):
    his_facilitator_holding(team, "facilitator;partner_support")
    cases = {(i["case_id"], i["subject"]) for i in _due(team, "--as", "fx1", "--days", "365")}
    assert ("BG-2", "participant") in cases and ("BG-2", "partner") not in cases
    assert ("BG-1", "partner") in cases  # the women he does support


def test_a_facilitator_acting_with_as_cannot_touch_her_record_nor_learn_she_exists(team):
    today = team.ctx.site_today("BG").isoformat()
    real = team.deployment.run(
        "record", "consent", "P-1", "--withdrawn", "--on", today, "--as", "facilitator"
    )
    missing = team.deployment.run(
        "record", "consent", "P-404", "--withdrawn", "--on", today, "--as", "facilitator"
    )
    assert (real.exit_code, real.err) == (1, "Error: no partner 'P-1' that facilitator may see\n")
    assert (missing.exit_code, missing.err) == (
        1,
        "Error: no partner 'P-404' that facilitator may see\n",
    )
    assert team.partner("P-1").consent_withdrawn_on is None
    refused = team.deployment.run(
        "record", "recidivism", "BG-1", "--on", today, "--source", "partner", "--as", "facilitator"
    )
    assert (refused.exit_code, refused.err) == (
        1,
        "Error: facilitator may not record this report\n",
    )


def test_a_record_made_as_an_account_is_audited_as_the_login_acting_as_it(team):
    on = (team.ctx.site_today("BG") - timedelta(days=1)).isoformat()
    _run(team, "record", "status", "BG-1", "admitted", "--on", on, "--as", "facilitator")
    _run(team, "record", "check", "BG-1", "--on", on, "--no-new-offence")
    assert _actors(team, "record_status")[-1] == f"cli:{LOGIN} as facilitator"
    assert _actors(team, "record_check")[-1] == f"cli:{LOGIN}"  # the operator, as before


def test_an_account_of_another_site_is_refused_what_the_web_refuses_it(team):
    on = team.ctx.site_today("BG").isoformat()
    refused = team.deployment.run(
        "record", "status", "BG-1", "admitted", "--on", on, "--as", "ns_facilitator"
    )
    assert (refused.exit_code, refused.err) == (
        1,
        "Error: no case 'BG-1' that ns_facilitator may see\n",
    )


def test_an_unknown_or_deactivated_account_lends_no_rights(team):
    unknown = team.deployment.run("due", "--as", "nobody")
    assert (unknown.exit_code, unknown.err) == (
        1,
        "Error: no user 'nobody'. Hint: `followup user list` shows them\n",
    )
    _run(team, "user", "deactivate", "facilitator")
    gone = team.deployment.run("due", "--as", "facilitator")
    assert (gone.exit_code, gone.err) == (
        1,
        "Error: user 'facilitator' is deactivated. Hint: `followup user list` shows them\n",
    )


def test_safety_alerts_are_one_operation_for_the_page_and_the_command(team, samples):
    listed = json.loads(_run(team, "alerts", "list", "--as", "supervisor", "--format", "json").out)
    assert [a["id"] for a in listed] == [samples["bg_alert"]]  # his site only
    page = team.browser("supervisor").get("/alerts").text
    assert (
        f'/alerts/{samples["bg_alert"]}"' in page and f'/alerts/{samples["ns_alert"]}"' not in page
    )
    refused = team.deployment.run("alerts", "list", "--as", "facilitator")
    assert (refused.exit_code, refused.err) == (
        1,
        "Error: facilitator may not read safety alerts\n",
    )
    _run(team, "alerts", "acknowledge", str(samples["bg_alert"]), "--as", "supervisor")
    assert _actors(team, "acknowledge_alert") == [f"cli:{LOGIN} as supervisor"]
    assert "Vesna Ilić" in team.browser("supervisor").get(f"/alerts/{samples['bg_alert']}").text
    again = _run(team, "alerts", "acknowledge", str(samples["bg_alert"]))
    assert again.out == f"Alert {samples['bg_alert']} was already acknowledged.\n"


def test_an_account_enrols_only_at_its_own_site(team):
    enrol = ("enrol", "NS-9", "--site", "NS", "--referral-source", "court")
    refused = team.deployment.run(*enrol, "--as", "facilitator")
    assert (refused.exit_code, refused.err) == (
        1,
        "Error: facilitator may not enrol participants at NS\n",
    )
    _run(team, *enrol, "--as", "ns_facilitator")
    assert _actors(team, "enrol")[-1] == f"cli:{LOGIN} as ns_facilitator"


def test_the_audit_trail_is_read_by_administrators_only_on_the_command_line_too(team):
    refused = team.deployment.run("audit", "--as", "facilitator")
    allowed = team.deployment.run("audit", "--limit", "1")

    assert refused.exit_code == 1
    assert refused.err == "Error: reading the audit trail is for administrators\n"
    assert allowed.exit_code == 0, allowed.err
