"""Every form carries the session's synchronizer token; a post without it changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from followup.models import Audit, FollowUp, Partner, SafetyAlert, UserAccount
from tests.web.test_authorisation_matrix import MATRIX, url


def snapshot(team) -> dict:
    with team.session() as session:
        return {
            "followups": sorted(session.execute(sa.select(FollowUp.id, FollowUp.status)).all()),
            "partners": sorted(
                session.execute(
                    sa.select(
                        Partner.partner_id,
                        Partner.consent_withdrawn_on,
                        Partner.do_not_contact,
                        Partner.channel,
                        Partner.plan_sealed,
                        Partner.plan_confirmed_on,
                    )
                ).all()
            ),
            "alerts": sorted(
                session.execute(sa.select(SafetyAlert.id, SafetyAlert.acknowledged_at)).all()
            ),
            "accounts": sorted(
                session.execute(
                    sa.select(
                        UserAccount.username,
                        UserAccount.language,
                        UserAccount.password_hash,
                        UserAccount.calendar_token_hash,
                    )
                ).all()
            ),
            "changes": session.execute(
                sa.select(sa.func.count())
                .select_from(Audit)
                .where(
                    Audit.action.not_in(["access_denied", "login", "read_partner", "admin_request"])
                )
            ).scalar_one(),
        }


def test_a_post_without_the_token_is_refused_on_every_form_and_changes_nothing(team, samples):
    admin = team.browser("admin")
    before = snapshot(team)
    # Harmful versions of each form: they would change something if the token were not checked.
    harmful = {
        "consent": {"consent": "withdrawn", "on": team.ctx.site_today("BG").isoformat()},
        "do-not-contact": {"flag": "set", "on": team.ctx.site_today("BG").isoformat()},
        "plan": {"channel_post": "yes", "safe_times": "01:00-02:00"},
        "language": {"language": "sr-Latn"},
    }
    for entry in MATRIX:
        if entry.method != "POST":
            continue
        data = dict(harmful.get(entry.path.rsplit("/", 1)[-1], entry.data))
        response = admin.post(url(entry, samples), data, csrf=False)
        assert response.status_code == 403, f"{entry.path}: {response.status_code}"
        assert "The form has expired" in response.text
        forged = admin.post(url(entry, samples), {**data, "csrf_token": "forged"}, csrf=False)
        assert forged.status_code == 403, entry.path
    assert snapshot(team) == before


def test_another_sessions_token_does_not_work_for_this_session(team, samples):
    mine, theirs = team.browser("partner_support"), team.browser("supervisor_ps")
    response = mine.post(
        "/partners/P-1/do-not-contact",
        {"flag": "set", "on": team.ctx.site_today("BG").isoformat(), "csrf_token": theirs.csrf()},
        csrf=False,
    )
    assert response.status_code == 403
    assert team.partner("P-1").do_not_contact is False


def test_the_login_form_needs_its_token_too(team):
    browser = team.browser()
    browser.get("/login")
    response = browser.client.post(
        "/login", data={"username": "facilitator", "password": "correct horse battery"}
    )
    assert response.status_code == 403
    assert browser.get("/followups").headers["location"].startswith("/login")


def test_a_valid_token_lets_the_same_form_through(team, samples):
    browser = team.browser("partner_support")
    response = browser.post(
        "/partners/P-1/plan", {"channel_sms": "yes", "safe_times": "09:00-10:00"}
    )
    assert response.status_code == 303
    assert team.plan("P-1").safe_times_text == "09:00-10:00"
