"""The calendar feed: a secret, revocable address; case id and checkpoint only; the wall holds."""

from __future__ import annotations

import re

import sqlalchemy as sa
from icalendar import Calendar

from tests.web.conftest import HER_EMAIL, HER_PHONE, PASSWORD


def feed_path(browser) -> str:
    """Make a feed on the Account page; the path of the address it shows once."""
    page = browser.post("/account/calendar").text
    address = re.search(r'value="(http://[^"]+/calendar/[^"]+\.ics)"', page).group(1)
    return address.split("127.0.0.1:8000", 1)[1]


INTAKE = "BG-1 Intake assessment (individual interviews)"  # the label, never `intake_assessment`


def events(body: bytes) -> list:
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_a_facilitators_feed_lists_his_participants_follow_ups_by_case_id_and_checkpoint(team):
    path = feed_path(team.browser("facilitator"))
    response = team.browser().get(path)  # a calendar app: no session
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/calendar"
    )
    found = events(response.content)
    summaries = {str(e["SUMMARY"]) for e in found}
    assert INTAKE in summaries
    assert all(s.startswith("BG-1 ") for s in summaries)
    intake = next(e for e in found if str(e["SUMMARY"]) == INTAKE)
    followup_id = team.followup_id("BG-1", "intake_assessment")
    assert intake.decoded("DTSTART") == team.followup(followup_id).due_on
    assert str(intake["UID"]).startswith(f"followup-{followup_id}@")
    assert str(intake["URL"]).endswith(f"/followups/{followup_id}")


def test_no_partner_follow_up_and_nothing_of_hers_is_in_any_feed_text(team):
    facilitator = team.browser().get(feed_path(team.browser("facilitator"))).content.decode()
    assert "partner" not in facilitator.lower()
    worker = team.browser().get(feed_path(team.browser("partner_support"))).content.decode()
    summaries = {str(e["SUMMARY"]) for e in events(worker.encode())}
    assert "BG-1 First partner contact: the programme, its limits, her safety" in summaries
    for hers in ("P-1", HER_PHONE, HER_EMAIL, "10:00-12:00"):
        assert hers not in worker


def test_the_feed_token_is_stored_as_a_digest_and_a_new_one_replaces_the_old(team):
    browser = team.browser("facilitator")
    first = feed_path(browser)
    second = feed_path(browser)
    assert team.browser().get(first).status_code == 404
    assert team.browser().get(second).status_code == 200
    token = second.rsplit("/", 1)[1].removesuffix(".ics")
    with team.session() as session:
        stored = session.execute(
            sa.text("SELECT calendar_token_hash FROM user_account WHERE username = 'facilitator'")
        ).scalar_one()
    assert stored != token and len(stored) == 64


def test_a_revoked_feed_and_a_deactivated_accounts_feed_are_gone(team):
    browser = team.browser("facilitator")
    path = feed_path(browser)
    assert browser.post("/account/calendar/revoke").status_code == 303
    assert team.browser().get(path).status_code == 404
    worker = team.browser("partner_support")
    hers = feed_path(worker)
    assert team.deployment.run("user", "deactivate", "partner_support").exit_code == 0
    assert team.browser().get(hers).status_code == 404


def test_a_completed_follow_up_leaves_the_feed(team):
    browser = team.browser("facilitator")
    path = feed_path(browser)
    followup_id = team.followup_id("BG-1", "intake_assessment")
    done = browser.post(
        f"/followups/{followup_id}",
        {"conducted_on": team.ctx.site_today("BG").isoformat(), "violence_physical": "no"},
    )
    assert done.status_code == 303
    summaries = {str(e["SUMMARY"]) for e in events(team.browser().get(path).content)}
    assert "BG-1 Intake assessment (individual interviews)" not in summaries


def test_a_password_reset_stops_the_feed_whether_by_new_password_or_by_link(team):
    mine = feed_path(team.browser("facilitator"))
    result = team.deployment.run(
        "user", "reset-password", "facilitator", stdin="a brand new password\n" * 2
    )
    assert result.exit_code == 0, result.err
    assert team.browser().get(mine).status_code == 404
    hers = feed_path(team.browser("partner_support"))
    assert (
        team.deployment.run("user", "reset-password", "partner_support", "--invite").exit_code == 0
    )
    assert team.browser().get(hers).status_code == 404


def test_an_accepted_invite_does_not_bring_back_a_feed_made_before_it(team):
    """A reset by link leaves the old feed unusable while the link waits; setting the
    password through the link must not wake it up again."""
    path = feed_path(team.browser("facilitator"))
    result = team.deployment.run("user", "reset-password", "facilitator", "--invite")
    link = re.search(r"(http://\S+/invite/\S+)", result.out).group(1)
    visitor = team.browser()
    chosen = {"password": "my own long password", "confirm": "my own long password"}
    assert visitor.post(link.split("127.0.0.1:8000", 1)[1], chosen).status_code == 303
    assert team.browser().login("facilitator", "my own long password").status_code == 303
    assert team.browser().get(path).status_code == 404


def test_an_invited_accounts_planted_feed_stays_dead_after_the_invite_is_accepted(team):
    from followup.models import UserAccount
    from followup.operations.accounts import accept_invite, add_account, issue_invite
    from followup.tokens import digest

    with team.session() as session:
        account = add_account(
            session, team.ctx, username="newcomer", staff_id="F1", roles=["facilitator"]
        )
        link = issue_invite(session, team.ctx, account)
        session.get(UserAccount, account.id).calendar_token_hash = digest("planted-token")
    with team.session() as session:
        accept_invite(session, link.rsplit("/", 1)[1], "my own long password", team.ctx.now())
    assert team.browser().get("/calendar/planted-token.ics").status_code == 404


def test_a_deactivated_accounts_feed_stays_stopped_when_it_is_activated_again(team):
    path = feed_path(team.browser("facilitator"))
    assert team.deployment.run("user", "deactivate", "facilitator").exit_code == 0
    assert team.deployment.run("user", "activate", "facilitator").exit_code == 0
    assert team.browser().login("facilitator").status_code == 303
    assert team.browser().get(path).status_code == 404


def test_changing_ones_own_password_stops_the_feed_and_says_so(team):
    browser = team.browser("facilitator")
    path = feed_path(browser)
    new = "a brand new password"
    changed = browser.post("/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert changed.status_code == 303
    assert "calendar feed" in browser.get(changed.headers["location"]).text
    assert team.browser().get(path).status_code == 404
    assert team.browser().get(feed_path(browser)).status_code == 200


def test_the_feed_names_checkpoints_in_the_language_of_its_owner(team):
    browser = team.browser("facilitator")
    assert browser.post("/account/language", {"language": "sr-Latn"}).status_code == 303
    found = events(team.browser().get(feed_path(browser)).content)
    assert "BG-1 Prijemna procena (individualni razgovori)" in {str(e["SUMMARY"]) for e in found}
    assert all("\nRok od " in str(e["DESCRIPTION"]) for e in found)
    assert browser.post("/account/language", {"language": "sq"}).status_code == 303
    summaries = {str(e["SUMMARY"]) for e in events(team.browser().get(feed_path(browser)).content)}
    assert "BG-1 Vlerësimi fillestar (intervista individuale)" in summaries
