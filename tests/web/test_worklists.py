"""Work lists that stay workable (filters, paging, grouping, mark missed for one or many,
My caseload, search) and safety alerts where she is (banners, flags, the navigation's
count, what was done) — each within the partner wall."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from followup.models import Audit, FollowUp, Participant, Partner, SafetyAlert, Staff
from followup.operations import caseload
from tests.web.conftest import PASSWORD


def words(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def cards(html: str) -> list[str]:
    """The follow-up links of a list page, as `case · checkpoint`."""
    return re.findall(r'<a href="/followups/\d+">([^<]+)</a>', html)


def move(team, followup_id: int, due_in_days: int, before: int = 0, after: int = 7) -> None:
    today = team.ctx.site_today("BG")
    with team.session() as session:
        row = session.get(FollowUp, followup_id)
        row.due_on = today + timedelta(days=due_in_days)
        row.window_opens_on = row.due_on - timedelta(days=before)
        row.window_closes_on = row.due_on + timedelta(days=after)


def her_alert(team, partner_id: str = "P-1") -> int:
    """An open safety alert raised for her (as a partner interview reporting violence
    leaves one), without closing any of her follow-ups."""
    with team.session() as session:
        her = session.execute(
            sa.select(Partner).where(Partner.partner_id == partner_id)
        ).scalar_one()
        alert = SafetyAlert(participant_id=her.participant_id, partner_id=her.id)
        session.add(alert)
        session.flush()
        return alert.id


@pytest.fixture
def wall_crosser(team):
    """F1 — his facilitator — holding the partner-support role too (in the staff file and
    on his account): the wall is by person, not only by role."""
    from followup.operations.accounts import add_account

    with team.session() as session:
        f1 = session.execute(sa.select(Staff).where(Staff.staff_id == "F1")).scalar_one()
        f1.roles = "facilitator;partner_support"
        session.flush()
        add_account(
            session,
            team.ctx,
            username="f1_also_ps",
            staff_id="F1",
            roles=("facilitator", "partner_support"),
            password=PASSWORD,
            language="en",
        )
    return team.browser("f1_also_ps")


# --- filters, grouping, paging ----------------------------------------------------------


def test_the_status_filter_keeps_only_overdue_follow_ups_and_the_counts_come_for_every_status(
    team,
):
    move(team, team.followup_id("BG-1", "end_of_programme"), -20)  # window closed
    page = team.browser("facilitator").get("/followups?status=overdue").text
    assert cards(page) == ["BG-1 · End of programme"]
    counts = words(page)
    assert "Overdue: 1" in counts and "Window open: 1" in counts  # intake is open


def test_a_supervisor_filters_by_informant_checkpoint_and_worker_and_groups_by_worker(team):
    browser = team.browser("supervisor")
    hers = cards(browser.get("/followups?scope=site&informant=partner").text)
    assert hers and all("partner" in c.lower() or "BG-1" in c for c in hers)
    assert not any(c.startswith("BG-1 · Intake assessment") for c in hers)
    intake = cards(browser.get("/followups?scope=site&checkpoint=intake_assessment").text)
    assert [c.split(" (")[0] for c in intake] == ["BG-1 · Intake assessment"]
    ana = browser.get("/followups?scope=site&worker=PS1").text
    assert "BG-1 · First partner contact" in " ".join(cards(ana))
    assert not any(c.startswith("BG-1 · Intake assessment") for c in cards(ana))
    grouped = words(browser.get("/followups?scope=site&group=worker").text)
    ana, marko = grouped.index("<h2>Ana Jovanović (1)"), grouped.index("<h2>Marko Petrović (1)")
    assert ana < marko  # by name
    assert "First partner contact" in grouped[ana:marko]
    assert "Intake assessment" in grouped[marko:]
    assert "Count per worker" in grouped


def test_a_supervisor_never_lists_another_sites_follow_ups_even_when_asking_for_that_site(team):
    page = team.browser("supervisor").get("/followups?scope=site&site=NS").text
    assert "NS-1" not in page
    admin = team.browser("admin").get("/followups?scope=site&site=NS").text
    assert "NS-1 · Intake assessment" in " ".join(cards(admin))
    assert "BG-1" not in " ".join(cards(admin))


def test_a_facilitator_is_not_offered_her_checkpoints_or_her_side_as_filters(team):
    page = team.browser("facilitator").get("/followups?informant=partner").text
    assert "partner_first_contact" not in page and 'value="partner"' not in page
    assert cards(page) == []  # asking for her side gives nothing, not her follow-ups


def test_the_list_pages_in_sql_and_the_pager_walks_every_follow_up_once(team, monkeypatch):
    monkeypatch.setattr(caseload, "PAGE_SIZE", 1)
    move(team, team.followup_id("BG-1", "end_of_programme"), 10)
    statements = []
    sa.event.listen(
        team.ctx.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )
    browser = team.browser("supervisor_ps")
    first = browser.get("/followups?scope=site").text
    total = int(re.search(r"Page 1 of (\d+) \((\d+) follow-ups\)", first).group(2))
    assert total >= 3 and "First partner contact" in first  # her side too, for her worker
    seen = [*cards(first)]
    for number in range(2, total + 1):
        page = browser.get(f"/followups?scope=site&page={number}").text
        assert f"Page {number} of {total}" in page
        seen += cards(page)
    assert len(seen) == total == len(set(seen))
    listing = [s for s in statements if "ORDER BY followup.due_on" in s]
    assert listing and all("LIMIT" in s and "OFFSET" in s for s in listing)
    counting = [s for s in statements if "count(*)" in s and "FROM followup" in s]
    assert counting and all("LIMIT" in s for s in counting)  # counts stop at the cap


def test_window_open_holds_every_follow_up_that_can_be_held_now(team):
    move(team, team.followup_id("BG-1", "end_of_programme"), 5, before=6)  # open, due later
    page = team.browser("facilitator").get("/followups").text
    section = page[
        page.index("Window open (") : page.index("</section>", page.index("Window open ("))
    ]
    assert "BG-1 · End of programme" in section and "BG-1 · Intake assessment" in section
    assert "Due today" not in page


# --- mark missed, for one or many ------------------------------------------------------


def test_marking_several_missed_with_a_reason_audits_each_follow_up(team):
    his, later = (
        team.followup_id("BG-1", "intake_assessment"),
        team.followup_id("BG-1", "end_of_programme"),
    )
    move(team, later, -3, before=10, after=1)
    browser = team.browser("facilitator")
    response = browser.post(
        "/followups/mark-missed",
        {"followup_id": [str(his), str(later)], "reason": "unreachable", "back": "/followups"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/followups?marked=2"
    assert "Follow-ups marked missed: 2." in browser.get(response.headers["location"]).text
    assert team.followup(his).status == team.followup(later).status == "missed"
    with team.session() as session:
        lines = session.execute(sa.select(Audit).where(Audit.action == "record_missed")).scalars()
        details = sorted(
            (json.loads(a.detail)["followup"], json.loads(a.detail)["reason"], a.actor)
            for a in lines
        )
    assert details == sorted(
        [(his, "unreachable", "web:facilitator"), (later, "unreachable", "web:facilitator")]
    )


def test_marking_missed_needs_a_reason_a_tick_and_the_forms_token(team):
    his = team.followup_id("BG-1", "intake_assessment")
    browser = team.browser("facilitator")
    no_reason = browser.post("/followups/mark-missed", {"followup_id": str(his)})
    assert no_reason.status_code == 422 and "Choose a reason." in no_reason.text
    nothing = browser.post("/followups/mark-missed", {"reason": "refused"})
    assert nothing.status_code == 422 and "Tick at least one follow-up." in nothing.text
    forged = browser.post(
        "/followups/mark-missed", {"followup_id": str(his), "reason": "refused"}, csrf=False
    )
    assert forged.status_code == 403
    assert team.followup(his).status == "scheduled"


def test_a_follow_up_not_his_to_mark_is_refused_and_the_others_are_still_marked(team):
    his, hers = (
        team.followup_id("BG-1", "intake_assessment"),
        team.followup_id("BG-1", "partner_first_contact", partner=True),
    )
    ns_his = team.followup_id("NS-1", "intake_assessment")
    browser = team.browser("facilitator")
    response = browser.post(
        "/followups/mark-missed",
        {"followup_id": [str(his), str(hers), str(ns_his)], "reason": "refused"},
    )
    assert response.status_code == 422
    assert "Could not be marked missed: 2." in response.text
    assert "Follow-ups marked missed: 1." in response.text
    assert team.followup(his).status == "missed"
    assert team.followup(hers).status == team.followup(ns_his).status == "scheduled"
    assert "First partner contact" not in response.text  # a refusal names no checkpoint of hers


def test_the_list_offers_ticks_only_for_follow_ups_this_person_may_mark(team):
    supervisor = team.browser("supervisor").get("/followups?scope=site").text
    assert 'name="followup_id"' not in supervisor and "mark-missed" not in supervisor
    ps = team.browser("partner_support").get("/followups").text
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    assert f'value="{hers}" id="pick-{hers}"' in ps


# --- My caseload -------------------------------------------------------------------------


def test_my_caseload_lists_the_people_assigned_to_me_and_her_only_to_her_worker(team, wall_crosser):
    facilitator = team.browser("facilitator").get("/caseload").text
    assert 'href="/participants/BG-1"' in facilitator and "P-1" not in facilitator
    assert "NS-1" not in facilitator
    worker = team.browser("partner_support").get("/caseload").text
    assert 'href="/partners/P-1"' in worker and "consent given" in worker
    assert "P-1" not in wall_crosser.get("/caseload").text


# --- search ------------------------------------------------------------------------------


def test_search_finds_substrings_of_case_and_partner_ids(team):
    with team.session() as session:
        bg1 = session.execute(
            sa.select(Participant).where(Participant.case_id == "BG-1")
        ).scalar_one()
        session.add(Partner(partner_id="P-12", participant_id=bg1.id, relationship="ex"))
    page = team.browser("partner_support").get("/search?q=-1").text
    assert 'href="/participants/BG-1"' in page
    assert 'href="/partners/P-1"' in page and 'href="/partners/P-12"' in page


def test_an_exact_id_opens_the_record_at_once(team):
    assert team.browser("facilitator").get("/search?q=bg-1").headers["location"] == (
        "/participants/BG-1"
    )
    assert team.browser("partner_support").get("/search?q=P-1").headers["location"] == (
        "/partners/P-1"
    )


def test_search_never_finds_her_for_his_facilitator_whatever_roles_he_holds(team, wall_crosser):
    for browser in (team.browser("facilitator"), wall_crosser):
        exact = browser.get("/search?q=P-1")
        assert exact.status_code == 200 and "/partners/P-1" not in exact.text
        assert "No id contains “P-1”" in exact.text  # his own query echoed, nothing of hers
        assert "/partners/" not in browser.get("/search?q=p-").text


# --- safety alerts where she is --------------------------------------------------------------


def test_her_open_alert_shows_as_a_banner_on_her_page_and_his_for_those_who_may_see_it(team):
    alert_id = her_alert(team)
    for login in ("partner_support", "supervisor_ps"):
        browser = team.browser(login)
        for path in ("/partners/P-1", "/participants/BG-1"):
            page = browser.get(path).text
            assert 'id="alert-banner"' in page and f'href="/alerts/{alert_id}"' in page, path
    supervisor = team.browser("supervisor").get("/participants/BG-1").text
    assert 'id="alert-banner"' in supervisor


def test_her_alert_banner_count_and_flag_never_reach_his_facilitator(team, wall_crosser):
    alert_id = her_alert(team)
    for browser in (team.browser("facilitator"), wall_crosser):
        page = browser.get("/participants/BG-1").text
        assert "alert-banner" not in page and f"/alerts/{alert_id}" not in page
        listing = browser.get("/followups?scope=site").text + browser.get("/followups").text
        assert 'id="alert-count"' not in listing and "alert-flag" not in listing
    assert wall_crosser.get("/partners/P-1").status_code == 404


def test_the_navigation_counts_only_the_open_alerts_this_person_may_see(team, samples):
    her_alert(team)
    page = team.browser("supervisor").get("/followups").text
    assert re.search(r'id="alert-count"[^>]*>2<', page)  # BG's police report and hers, not NS's
    admin = team.browser("admin").get("/followups").text
    assert re.search(r'id="alert-count"[^>]*>3<', admin)
    team.browser("supervisor").post(
        f"/alerts/{samples['bg_alert']}/acknowledge", {"action": "case_conference"}
    )
    again = team.browser("supervisor").get("/followups").text
    assert re.search(r'id="alert-count"[^>]*>1<', again)


def test_her_follow_ups_are_flagged_in_the_lists_while_her_alert_is_open(team):
    her_alert(team)
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    page = team.browser("partner_support").get("/followups").text
    card = page[
        page.index(f'href="/followups/{hers}"') - 400 : page.index(f'href="/followups/{hers}"')
        + 600
    ]
    assert "alert-flag" in card and "Safety alert" in card
    his = team.browser("supervisor").get("/followups?scope=site&checkpoint=intake_assessment").text
    assert "alert-flag" not in his  # his follow-ups are not hers


def test_the_alert_page_shows_her_risk_and_felt_safety_and_links_the_interview(team):
    hers = team.followup_id("BG-1", "partner_first_contact", partner=True)
    ps = team.browser("partner_support")
    saved = ps.post(
        f"/followups/{hers}",
        {
            "safe_to_talk": "yes",
            "conducted_on": team.ctx.site_today("BG").isoformat(),
            "violence_physical": "yes",
            "felt_safety": "2",
            "risk_level": "high",
        },
    )
    assert saved.status_code == 303
    with team.session() as session:
        alert_id = session.execute(sa.select(SafetyAlert.id)).scalar_one()
    page = words(ps.get(f"/alerts/{alert_id}").text)
    assert 'id="risk-level">High<' in page and 'id="felt-safety">2 — unsafe<' in page
    assert f'href="/followups/{hers}" id="interview-link"' in page
    supervisor = words(team.browser("supervisor").get(f"/alerts/{alert_id}").text)
    assert "risk-level" not in supervisor and "felt-safety" not in supervisor  # her account


def test_acknowledging_records_what_was_done_with_a_sealed_note(team, samples):
    browser = team.browser("supervisor_ps")
    path = f"/alerts/{samples['bg_alert']}"
    refused = browser.post(f"{path}/acknowledge", {"note": "Called her."})
    assert refused.status_code == 422 and "Choose one of the options." in refused.text
    assert "Called her." in refused.text  # what was typed is kept
    done = browser.post(
        f"{path}/acknowledge", {"action": "safety_plan_reviewed", "note": "Called her at noon."}
    )
    assert done.status_code == 303
    page = words(browser.get(path).text)
    assert 'id="action">Safety plan reviewed with her<' in page and "Called her at noon." in page
    with team.session() as session:
        alert = session.get(SafetyAlert, samples["bg_alert"])
        line = session.execute(
            sa.select(Audit).where(Audit.action == "acknowledge_alert")
        ).scalar_one()
    assert alert.action == "safety_plan_reviewed" and b"noon" not in alert.action_note_sealed
    assert json.loads(line.detail)["done"] == "safety_plan_reviewed"


def test_the_cli_acknowledges_with_what_was_done_as_the_page_does(team, samples):
    result = team.deployment.run(
        "alerts",
        "acknowledge",
        str(samples["bg_alert"]),
        "--as",
        "supervisor",
        "--action",
        "police_informed",
        "--note",
        "Reported to the duty officer.",
    )
    assert result.exit_code == 0, result.err
    page = words(team.browser("supervisor_ps").get(f"/alerts/{samples['bg_alert']}").text)
    assert 'id="action">Police informed<' in page and "Reported to the duty officer." in page
    listed = team.deployment.run("alerts", "list", "--all", "--format", "json")
    actions = {a["id"]: a["action"] for a in json.loads(listed.out)}
    assert actions == {samples["bg_alert"]: "police_informed", samples["ns_alert"]: None}


def test_one_follow_up_marked_missed_from_its_page_keeps_its_reason(team):
    his = team.followup_id("BG-1", "intake_assessment")
    browser = team.browser("facilitator")
    assert 'id="missed-reason"' in browser.get(f"/followups/{his}").text
    odd = browser.post(f"/followups/{his}/missed", {"reason": "bored"})
    assert odd.status_code == 422 and team.followup(his).status == "scheduled"
    assert browser.post(f"/followups/{his}/missed", {"reason": "moved_away"}).status_code == 303
    with team.session() as session:
        line = session.execute(sa.select(Audit).where(Audit.action == "record_missed")).scalar_one()
    assert json.loads(line.detail)["reason"] == "moved_away"


def test_counting_a_long_list_stops_at_the_cap_and_says_at_least(team, monkeypatch):
    monkeypatch.setattr(caseload, "COUNT_CAP", 1)
    monkeypatch.setattr(caseload, "PAGE_SIZE", 1)
    page = words(team.browser("supervisor_ps").get("/followups?scope=site").text)
    assert "Window open: 2+" in page and "Page 1 of 2+ (2+ follow-ups)" in page
    assert 'id="next-page"' in page
