"""Logging in and out: sessions on the server, cookies, throttling, deactivation."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from followup.clock import utcnow
from followup.models import Audit, LoginFailure, UserAccount, WebSession
from followup.operations import accounts
from followup.web import sessions
from tests.web.conftest import PASSWORD


def audit_actions(team, action: str) -> list[Audit]:
    with team.session() as session:
        return list(
            session.execute(
                sa.select(Audit).where(Audit.action == action).order_by(Audit.id)
            ).scalars()
        )


def test_logging_in_lands_on_the_first_page_of_ones_role_and_is_audited(team):
    browser = team.browser()
    response = browser.login("facilitator")
    assert response.headers["location"] == "/"
    assert browser.get("/").headers["location"] == "/followups"
    evaluator = team.browser()
    evaluator.login("evaluator")
    assert evaluator.get("/").headers["location"] == "/outcomes"
    logins = audit_actions(team, "login")
    assert [row.actor for row in logins] == ["web:facilitator", "web:evaluator"]


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_plain_http(team):
    response = team.browser().login("facilitator")
    cookie = response.headers["set-cookie"].lower()
    assert "followup_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie


def test_the_session_cookie_is_secure_when_served_over_https(team):
    browser = team.browser(base_url="https://testserver")
    cookie = browser.login("facilitator").headers["set-cookie"].lower()
    assert "; secure" in cookie


def test_the_database_keeps_only_a_digest_of_the_session_token(team):
    browser = team.browser("facilitator")
    token = browser.client.cookies.get(sessions.COOKIE)
    with team.session() as session:
        stored = (
            session.execute(
                sa.select(WebSession.token_hash).where(WebSession.account_id.is_not(None))
            )
            .scalars()
            .all()
        )
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_logging_in_replaces_the_visitors_session_so_a_planted_cookie_is_useless(team):
    browser = team.browser()
    browser.get("/login")
    planted = browser.client.cookies.get(sessions.COOKIE)
    browser.login("facilitator")
    assert browser.client.cookies.get(sessions.COOKIE) != planted
    attacker = team.browser()
    attacker.client.cookies.set(sessions.COOKIE, planted)
    assert attacker.get("/followups").headers["location"].startswith("/login")


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(team):
    known = team.browser().login("facilitator", "not the password")
    unknown = team.browser().login("nobody-at-all", "not the password")
    assert known.status_code == unknown.status_code == 401
    assert (
        "Wrong user name or password." in known.text
        and "Wrong user name or password." in unknown.text
    )
    failed = audit_actions(team, "login_failed")
    assert [row.entity_id for row in failed] == ["facilitator", "nobody-at-all"]
    assert all(
        PASSWORD not in (row.detail or "") and "not the password" not in (row.detail or "")
        for row in failed
    )


def test_after_five_failures_even_the_right_password_is_refused_until_the_window_passes(team):
    browser = team.browser()
    with freeze_time(utcnow()) as frozen:
        for _ in range(5):
            assert browser.login("facilitator", "guess guess guess").status_code == 401
        refused = browser.login("facilitator")
        assert refused.status_code == 429 and "Too many failed attempts" in refused.text
        frozen.tick(timedelta(minutes=15, seconds=1))
        assert browser.login("facilitator").status_code == 303
    with team.session() as session:
        assert (
            session.execute(
                sa.select(LoginFailure).where(LoginFailure.username == "facilitator")
            ).first()
            is None
        )
        assert (
            session.execute(
                sa.select(UserAccount.failed_logins).where(UserAccount.username == "facilitator")
            ).scalar_one()
            == 0
        )
    assert len(audit_actions(team, "login_throttled")) == 1


def test_an_unknown_name_is_throttled_exactly_like_a_known_one(team):
    browser = team.browser()
    for _ in range(5):
        browser.login("nobody-at-all", "guess guess guess")
    assert browser.login("nobody-at-all", "guess guess guess").status_code == 429


def test_one_address_trying_many_names_is_refused_after_the_address_limit(make_deployment):
    from tests.web.conftest import build_team

    team = build_team(make_deployment(extra="[web]\nlogin_ip_max_failures = 3\n"))
    browser = team.browser()
    for name in ("anna", "bojan", "cica"):
        assert browser.login(name, "guess guess guess").status_code == 401
    # A fourth name, and even the right password for a real one, from the same address.
    assert browser.login("facilitator").status_code == 429


def test_an_administrators_password_reset_lifts_the_throttle_and_ends_sessions(team):
    signed_in = team.browser("facilitator")
    attacker = team.browser()
    for _ in range(5):
        attacker.login("facilitator", "guess guess guess")
    with team.session() as session:
        accounts.reset_password(session, team.ctx, "facilitator", "a brand new password")
    assert signed_in.get("/followups").headers["location"].startswith("/login")
    assert team.browser().login("facilitator", "a brand new password").status_code == 303


def test_logout_ends_the_session_on_the_server_so_the_old_cookie_no_longer_works(team):
    browser = team.browser("facilitator")
    cookie = browser.client.cookies.get(sessions.COOKIE)
    assert browser.post("/logout").headers["location"] == "/login"
    replay = team.browser()
    replay.client.cookies.set(sessions.COOKIE, cookie)
    assert replay.get("/followups").headers["location"].startswith("/login")
    assert [row.actor for row in audit_actions(team, "logout")] == ["web:facilitator"]


def test_deactivating_an_account_ends_its_sessions_at_once(team):
    browser = team.browser("facilitator")
    assert team.deployment.run("user", "deactivate", "facilitator").exit_code == 0
    assert browser.get("/followups").headers["location"].startswith("/login")
    assert team.browser().login("facilitator").status_code == 401
    assert team.deployment.run("user", "activate", "facilitator").exit_code == 0
    assert team.browser().login("facilitator").status_code == 303


def test_a_staff_member_made_inactive_by_the_staff_file_cannot_use_the_web(team):
    browser = team.browser("facilitator")
    with team.session() as session:
        session.execute(sa.text("UPDATE staff SET active = false WHERE staff_id = 'F1'"))
    assert browser.get("/followups").headers["location"].startswith("/login")


def test_a_role_taken_away_in_the_staff_file_is_gone_from_the_web_at_the_next_request(team):
    browser = team.browser("partner_support")
    assert browser.get("/partners/P-1").status_code == 200
    with team.session() as session:
        session.execute(sa.text("UPDATE staff SET roles = 'facilitator' WHERE staff_id = 'PS1'"))
    assert browser.get("/partners/P-1").status_code == 404


def test_a_session_ends_after_the_idle_time_and_after_the_longest_allowed_time(team):
    web = team.ctx.config.web
    start = utcnow()
    with team.session() as session:
        account = session.execute(
            sa.select(UserAccount).where(UserAccount.username == "facilitator")
        ).scalar_one()
        token = sessions.start(session, web, account.id, start).token
    step = timedelta(minutes=web.session_idle_minutes - 1)
    now = start
    with team.session() as session:
        while now - start < timedelta(hours=web.session_hours) - step:
            now += step
            assert sessions.load(session, web, token, now) is not None, (
                f"ended early at {now - start}"
            )
        assert (
            sessions.load(
                session, web, token, start + timedelta(hours=web.session_hours, seconds=1)
            )
            is None
        )
    with team.session() as session:
        other = sessions.start(session, web, account.id, start).token
        later = start + timedelta(minutes=web.session_idle_minutes, seconds=1)
        assert sessions.load(session, web, other, later) is None


def test_next_after_login_stays_on_this_site(team):
    browser = team.browser()
    page = browser.get("/login?next=//evil.example/steal")
    assert "//evil.example" not in page.text
    from followup.web.common import safe_next

    assert safe_next("https://evil.example/", "/") == "/"
    assert safe_next("//evil.example/x", "/") == "/"
    assert safe_next("/\\evil.example", "/") == "/"
    assert safe_next("/participants/BG-1", "/") == "/participants/BG-1"


def test_a_protected_page_sends_a_visitor_to_login_and_back_to_it_afterwards(team):
    browser = team.browser()
    response = browser.get("/participants/BG-1")
    assert response.headers["location"] == "/login?next=/participants/BG-1"
    page = browser.get(response.headers["location"])
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    after = browser.client.post(
        "/login",
        data={
            "username": "facilitator",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/participants/BG-1",
        },
    )
    assert after.headers["location"] == "/participants/BG-1"


def test_everywhere_an_administrator_goes_is_in_the_audit_trail(team):
    browser = team.browser("admin")
    browser.get("/participants/NS-1")
    browser.get("/outcomes/report.csv")
    with team.session() as session:
        rows = session.execute(
            sa.select(Audit.actor, Audit.detail)
            .where(Audit.action == "admin_request")
            .order_by(Audit.id)
        ).all()
    assert [(actor, json.loads(detail)["path"]) for actor, detail in rows] == [
        ("web:admin", "/participants/NS-1"),
        ("web:admin", "/outcomes/report.csv"),
    ]


def test_an_unknown_name_an_inactive_account_and_a_wrong_password_cost_the_same_hash_check(
    team, monkeypatch
):
    """Each refusal verifies exactly one argon2 hash of the same cost, so none answers
    sooner and tells that a name exists (an inactive account used to skip the check)."""
    import argon2

    checked: list[argon2.Parameters] = []

    class Counting(argon2.PasswordHasher):
        def verify(self, hash, password):  # noqa: A002  (argon2's own parameter name)
            checked.append(argon2.extract_parameters(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_hasher", Counting(time_cost=1, memory_cost=1024, parallelism=1))
    with team.session() as session:
        accounts.add_account(
            session, team.ctx, username="invited", staff_id="F1", roles=["facilitator"]
        )
    assert team.deployment.run("user", "deactivate", "supervisor").exit_code == 0
    with team.session() as session:
        session.execute(sa.text("UPDATE staff SET active = false WHERE staff_id = 'EV1'"))
    attempts = {
        "wrong password": ("facilitator", "not the password"),
        "unknown name": ("nobody-at-all", PASSWORD),
        "inactive account, right password": ("supervisor", PASSWORD),
        "inactive account, wrong password": ("supervisor", "not the password"),
        "invited, no password yet": ("invited", PASSWORD),
        "staff member inactive, right password": ("evaluator", PASSWORD),
    }
    costs = {}
    for what, (username, password) in attempts.items():
        checked.clear()
        assert team.browser().login(username, password).status_code == 401, what
        assert len(checked) == 1, f"{what}: {len(checked)} password checks"
        costs[what] = checked[0]
    assert all(cost == costs["wrong password"] for cost in costs.values()), costs
    checked.clear()
    assert team.browser().login("facilitator").status_code == 303
    assert checked == [costs["wrong password"]]
