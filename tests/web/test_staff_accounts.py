"""Staff and accounts in the browser, for administrators: the same operations, rules and
audit as `followup staff add` and `followup user …`; an invite link shown once."""

from __future__ import annotations

import re

import sqlalchemy as sa

from followup.models import Audit, Staff, UserAccount


def invite_link(page: str) -> str | None:
    found = re.search(r'value="(http[^"]+/invite/[^"]+)"', page)
    return found.group(1) if found else None


def audit_lines(team, action: str) -> list[tuple[str, str]]:
    with team.session() as session:
        return session.execute(
            sa.select(Audit.actor, Audit.entity_id).where(Audit.action == action)
        ).all()


def test_an_invite_link_is_shown_once_and_lets_the_person_set_a_password(team):
    admin = team.browser("admin")
    answer = admin.post(
        "/accounts/invite",
        {"username": "novak", "staff_id": "SV1", "role.supervisor": "1", "language": "en"},
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    link = invite_link(answer.text)
    assert link is not None and "shown only this once" in answer.text
    token = link.rsplit("/", 1)[1]
    again = admin.get("/accounts").text
    assert token not in again and "novak" in again and "invited (no password yet)" in again
    assert token not in admin.get("/accounts/novak").text
    assert audit_lines(team, "user_invite") == [("web:admin", "novak")]
    assert ("web:admin", "novak") in audit_lines(team, "user_add")
    newcomer = team.browser()
    path = link.split("127.0.0.1:8000", 1)[1]
    done = newcomer.post(
        path, {"password": "a long new password", "confirm": "a long new password"}
    )
    assert done.status_code in (200, 303)
    assert newcomer.login("novak", "a long new password").status_code == 303


def test_an_invite_asks_for_what_is_missing_and_refuses_a_role_the_staff_member_lacks(team):
    admin = team.browser("admin")
    empty = admin.post("/accounts/invite", {})
    assert empty.status_code == 422
    assert "Tick at least one role." in empty.text and "Give a user name." in empty.text
    wrong = admin.post(
        "/accounts/invite", {"username": "novak", "staff_id": "SV1", "role.admin": "1"}
    )
    assert wrong.status_code == 422 and "does not have the admin role" in wrong.text
    assert invite_link(wrong.text) is None
    with team.session() as session:
        assert (
            session.execute(
                sa.select(UserAccount.id).where(UserAccount.username == "novak")
            ).first()
            is None
        )


def test_adding_staff_in_the_browser_checks_the_staff_file_rules(team):
    admin = team.browser("admin")
    fields = {"staff_id": "F3", "site": "BG", "name": "Nikola Kovač", "role.facilitator": "1"}
    no_phone = admin.post("/accounts/staff", {**fields, "channel": "sms"})
    assert no_phone.status_code == 422 and "needed for the sms channel" in no_phone.text
    bad_site = admin.post("/accounts/staff", {**fields, "site": "XX"})
    assert bad_site.status_code == 422 and "unknown site &#39;XX&#39;" in bad_site.text
    added = admin.post("/accounts/staff", {**fields, "phone": "+381641234567", "channel": "sms"})
    assert added.status_code == 303
    with team.session() as session:
        staff = session.execute(sa.select(Staff).where(Staff.staff_id == "F3")).scalar_one()
        assert (staff.roles, staff.channel, staff.language) == ("facilitator", "sms", "sr-Latn")
    assert audit_lines(team, "staff_add") == [("web:admin", "F3")]
    twice = admin.post("/accounts/staff", {**fields, "phone": "+381641234567"})
    assert twice.status_code == 422 and "already exists" in twice.text


def test_the_cli_and_the_web_refuse_the_same_staff_member_with_the_same_words(team):
    cli = team.deployment.run(
        "staff",
        "add",
        "F3",
        "--site",
        "BG",
        "--name",
        "Nikola",
        "--role",
        "facilitator",
        "--channel",
        "sms",
    )
    assert cli.exit_code == 1
    web = team.browser("admin").post(
        "/accounts/staff",
        {
            "staff_id": "F3",
            "site": "BG",
            "name": "Nikola",
            "role.facilitator": "1",
            "channel": "sms",
        },
    )
    assert "phone: needed for the sms channel" in cli.err
    assert "needed for the sms channel" in web.text
    ok = team.deployment.run(
        "staff", "add", "F3", "--site", "BG", "--name", "Nikola", "--role", "facilitator"
    )
    assert ok.exit_code == 0, ok.err
    assert audit_lines(team, "staff_add")[0][1] == "F3"


def test_deactivating_signs_the_person_out_at_once_and_activating_lets_them_back(team):
    facilitator = team.browser("facilitator")
    assert facilitator.get("/followups").status_code == 200
    admin = team.browser("admin")
    assert admin.post("/accounts/facilitator/deactivate").status_code == 303
    assert "deactivated" in admin.get("/accounts/facilitator").text
    assert facilitator.get("/followups").status_code == 303  # to the login page
    assert admin.post("/accounts/facilitator/activate").status_code == 303
    assert team.browser("facilitator").get("/followups").status_code == 200
    assert audit_lines(team, "user_deactivate") == [("web:admin", "facilitator")]


def test_reset_makes_a_new_one_time_link_and_ends_the_old_password(team):
    admin = team.browser("admin")
    answer = admin.post("/accounts/supervisor/reset")
    assert answer.status_code == 200 and invite_link(answer.text) is not None
    assert team.browser().login("supervisor").status_code == 401
    assert audit_lines(team, "user_reset_password") == [("web:admin", "supervisor")]


def test_roles_and_sites_change_only_to_roles_the_staff_member_holds(team):
    admin = team.browser("admin")
    refused = admin.post("/accounts/supervisor_ps/access", {"role.admin": "1"})
    assert refused.status_code == 422 and "does not have the admin role" in refused.text
    none = admin.post("/accounts/supervisor_ps/access", {})
    assert none.status_code == 422 and "Tick at least one role." in none.text
    saved = admin.post("/accounts/supervisor_ps/access", {"role.supervisor": "1"})
    assert saved.status_code == 303
    with team.session() as session:
        account = session.execute(
            sa.select(UserAccount).where(UserAccount.username == "supervisor_ps")
        ).scalar_one()
        assert account.roles == "supervisor"
    assert admin.get("/accounts/nobody-here").status_code == 404
    assert admin.post("/accounts/nobody-here/deactivate").status_code == 404


def test_the_audit_page_filters_by_action_and_record_and_hides_admin_requests(team):
    admin = team.browser("admin")
    admin.post("/accounts/facilitator/deactivate")
    page = admin.get("/audit").text
    assert '<select id="action" name="action">' in page
    assert (
        '<option value="user_deactivate">' in page and '<option value="schedule_apply"' not in page
    )
    assert "admin_request</td>" not in page and "user_deactivate" in page
    assert "admin_request</td>" in admin.get("/audit?requests=1").text
    only = admin.get("/audit?action=login").text
    assert "user_deactivate</td>" not in only and "login</td>" in only
    record = admin.get("/audit?record=facilitator").text
    assert "user_deactivate</td>" in record and "login_failed" not in record
    assert '{"' not in page  # details are readable, not raw JSON
    assert "<dt>roles</dt>" in page or "<dt>ip</dt>" in page


def test_the_audit_page_pages_in_sql(team):
    from followup.audit import audit

    with team.session() as session:
        for number in range(230):
            audit(session, "cli:ops", "export", "report", f"R{number}")
    admin = team.browser("admin")
    first = admin.get("/audit?action=export").text
    assert first.count("export</td>") == 100 and "page=2" in first
    third = admin.get("/audit?action=export&page=3").text
    assert third.count("export</td>") == 30 and "page=4" not in third


def test_an_administrator_cannot_lock_themselves_out(team):
    admin = team.browser("admin")
    refused = admin.post("/accounts/admin/deactivate")
    assert refused.status_code == 422 and "your own account" in refused.text
    assert admin.get("/accounts").status_code == 200


def test_user_access_on_the_command_line_is_the_same_operation_and_audit(team):
    result = team.deployment.run("user", "access", "supervisor_ps", "--role", "supervisor")
    assert result.exit_code == 0, result.err
    assert "supervisor_ps: roles supervisor" in result.out
    refused = team.deployment.run("user", "access", "supervisor_ps", "--role", "admin")
    assert refused.exit_code == 1 and "does not have the admin role" in refused.err
    ((actor, who),) = audit_lines(team, "user_access")
    assert actor.startswith("cli:") and who == "supervisor_ps"
