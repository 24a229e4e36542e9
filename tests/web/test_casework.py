"""Casework in the browser: enrol, add and edit a partner, status, a new violence report,
a police record check — through the CLI's own operations, rules and audit."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from followup.models import Audit, Event, FollowUp, Participant, Partner, SafetyAlert
from followup.schedule import PENDING

PHONE = "+381609998877"


def today(team):
    return team.ctx.site_today("BG")


def audited(team, action: str) -> list[Audit]:
    with team.session() as session:
        rows = session.execute(sa.select(Audit).where(Audit.action == action)).scalars().all()
        session.expunge_all()
        return rows


def participant(team, case_id: str) -> Participant:
    with team.session() as session:
        person = session.execute(
            sa.select(Participant).where(Participant.case_id == case_id)
        ).scalar_one_or_none()
        session.expunge_all()
        return person


def enrol_form(team, **changes) -> dict:
    form = {
        "case_id": "BG-2",
        "site": "BG",
        "referral_source": "court",
        "enrolled_on": (today(team) - timedelta(days=3)).isoformat(),
        "protocol": "undp-serbia",
        "facilitator": "F1",
    }
    form.update(changes)
    return form


def pending_dates(team, case_id: str) -> dict[tuple, tuple]:
    with team.session() as session:
        rows = session.execute(
            sa.select(
                FollowUp.partner_id.is_not(None),
                FollowUp.checkpoint,
                FollowUp.occurrence,
                FollowUp.status,
                FollowUp.due_on,
                FollowUp.window_opens_on,
                FollowUp.window_closes_on,
            )
            .join(Participant, Participant.id == FollowUp.participant_id)
            .where(Participant.case_id == case_id)
        ).all()
    return {tuple(r[:3]): tuple(r[3:]) for r in rows}


# --- enrol -------------------------------------------------------------------------------


def test_a_facilitator_enrols_a_participant_from_the_enrol_page(team):
    browser = team.browser("facilitator")
    page = browser.get("/enrol")
    assert page.status_code == 200 and 'name="case_id"' in page.text
    response = browser.post("/enrol", enrol_form(team))
    assert response.status_code == 303
    assert response.headers["location"] == "/participants/BG-2"
    person = participant(team, "BG-2")
    assert person.referral_source == "court" and person.protocol_id == "undp-serbia"
    assert [a.actor for a in audited(team, "enrol") if a.entity_id == "BG-2"] == ["web:facilitator"]
    shown = browser.get("/participants/BG-2")
    assert shown.status_code == 200 and "Marko Petrović" in shown.text


def test_enrolment_errors_appear_next_to_their_fields_in_web_words(team):
    browser = team.browser("facilitator")
    future = (today(team) + timedelta(days=2)).isoformat()
    response = browser.post(
        "/enrol", enrol_form(team, case_id=" bad id!", referral_source="", enrolled_on=future)
    )
    assert response.status_code == 422
    assert 'id="case_id-error"' in response.text
    assert 'id="referral_source-error"' in response.text
    assert (
        'id="enrolled_on-error"' in response.text and "This date is in the future." in response.text
    )
    taken = browser.post("/enrol", enrol_form(team, case_id="BG-1"))
    assert taken.status_code == 422
    assert "A participant with this case id is already enrolled." in taken.text
    assert "Hint" not in taken.text and "followup record" not in taken.text
    assert participant(team, "BG-2") is None


def test_nobody_enrols_at_a_site_that_is_not_theirs(team):
    browser = team.browser("facilitator")
    page = browser.get("/enrol")
    assert '<option value="NS"' not in page.text
    response = browser.post("/enrol", enrol_form(team, site="NS", facilitator=""))
    assert response.status_code == 422 and 'id="site-error"' in response.text
    assert participant(team, "BG-2") is None
    admin = team.browser("admin")
    elsewhere = admin.post("/enrol", enrol_form(team, site="NS", facilitator="F1"))
    assert elsewhere.status_code == 422
    assert "This facilitator works at another site." in elsewhere.text
    assert admin.post("/enrol", enrol_form(team, site="NS", facilitator="F2")).status_code == 303
    assert participant(team, "BG-2").site_code == "NS"


def test_a_facilitator_finds_himself_chosen_on_the_enrol_page(team):
    page = team.browser("facilitator").get("/enrol").text
    assert '<option value="F1" selected>' in page
    assert '<option value="F1">' in team.browser("supervisor").get("/enrol").text


def test_the_participant_page_offers_each_person_only_the_forms_they_may_use(team):
    offered = {}
    for login in ("facilitator", "partner_support", "supervisor", "supervisor_ps"):
        text = team.browser(login).get("/participants/BG-1").text
        offered[login] = {
            form
            for form in ("status", "recidivism", "check", "partners/new")
            if f'href="/participants/BG-1/{form}"' in text
        }
    assert offered == {
        "facilitator": {"status", "recidivism", "check"},
        "partner_support": {"recidivism", "check", "partners/new"},
        "supervisor": {"status", "recidivism", "check"},
        "supervisor_ps": {"status", "recidivism", "check", "partners/new"},
    }


def test_partner_support_and_evaluators_may_not_open_the_enrol_page(team):
    assert team.browser("partner_support").get("/enrol").status_code == 403
    assert team.browser("evaluator").get("/enrol").status_code == 403
    assert team.browser("partner_support").post("/enrol", enrol_form(team)).status_code == 403
    assert participant(team, "BG-2") is None


def test_an_enrolment_without_the_session_token_is_refused(team):
    browser = team.browser("facilitator")
    response = browser.post("/enrol", enrol_form(team), csrf=False)
    assert response.status_code == 403
    assert participant(team, "BG-2") is None


# --- her record ---------------------------------------------------------------------------


def partner_form(**changes) -> dict:
    form = {
        "partner_id": "P-2",
        "relationship": "ex",
        "consent_on": "",
        "channel_phone": "yes",
        "support_worker": "PS1",
        "safe_times": "09:00-11:00",
        "phone": PHONE,
        "email": "",
    }
    form.update(changes)
    return form


def test_partner_support_adds_a_partner_whose_phone_is_then_shown_only_behind_show(team):
    browser = team.browser("partner_support")
    assert browser.get("/participants/BG-1/partners/new").status_code == 200
    response = browser.post("/participants/BG-1/partners/new", partner_form())
    assert response.status_code == 303 and response.headers["location"] == "/partners/P-2"
    her = team.partner("P-2")
    assert her.relationship == "ex" and her.channel == "phone"
    assert team.plan("P-2").safe_times_text == "09:00-11:00"
    assert team.plan("P-2").channels == {"phone": PHONE}
    assert PHONE not in str(her.contact_sealed)
    page = browser.get("/partners/P-2")
    assert PHONE not in page.text and "/partners/P-2/reveal" in page.text
    assert PHONE in browser.post("/partners/P-2/reveal").text
    assert [a.actor for a in audited(team, "add_partner")] == ["web:partner_support"]
    assert [a.entity_id for a in audited(team, "reveal_contact")] == ["P-2"]


def test_a_partner_form_with_errors_keeps_no_contact_detail_in_the_page(team):
    browser = team.browser("partner_support")
    response = browser.post(
        "/participants/BG-1/partners/new",
        partner_form(partner_id="P-1", phone="060 12 34 56", email="not-an-address"),
    )
    assert response.status_code == 422
    assert 'id="phone-error"' in response.text and 'id="email-error"' in response.text
    assert "060 12 34 56" not in response.text and "not-an-address" not in response.text
    taken = browser.post("/participants/BG-1/partners/new", partner_form(partner_id="P-1"))
    assert "A partner with this id already exists." in taken.text


def test_the_mans_facilitator_is_never_offered_nor_accepted_as_her_worker(team):
    with team.session() as session:  # F1 also holds partner_support: the wall is by person
        from followup.models import Staff

        session.execute(
            sa.update(Staff)
            .where(Staff.staff_id == "F1")
            .values(roles="facilitator;partner_support")
        )
    browser = team.browser("partner_support")
    page = browser.get("/participants/BG-1/partners/new")
    assert '<option value="F1"' not in page.text and '<option value="PS1"' in page.text
    response = browser.post("/participants/BG-1/partners/new", partner_form(support_worker="F1"))
    assert response.status_code == 422 and 'id="support_worker-error"' in response.text
    assert "his facilitator is never his partner&#39;s worker" in response.text
    assert "Hint" not in response.text
    edit = browser.post("/partners/P-1/edit", {"relationship": "current", "support_worker": "F1"})
    assert edit.status_code == 422 and 'id="support_worker-error"' in edit.text
    assert "his facilitator is never his partner&#39;s worker" in edit.text
    assert team.partner("P-1").support_worker_id is not None
    assert "P-2" not in {p.partner_id for p in _partners(team)}


def test_the_wall_is_refused_by_the_operation_too_whatever_the_form_offers(team):
    from followup.errors import InvalidRecord
    from followup.operations import casework
    from followup.operations.policy import operator
    from followup.wall import WallRefusal

    with team.session() as session:
        from followup.models import Staff

        session.execute(
            sa.update(Staff)
            .where(Staff.staff_id == "F1")
            .values(roles="facilitator;partner_support")
        )
    with team.session() as session:
        try:
            casework.edit_partner(
                session,
                team.ctx,
                operator("ops"),
                partner_id="P-1",
                relationship="current",
                support_worker="F1",
            )
        except WallRefusal as refused:
            assert isinstance(
                refused, InvalidRecord
            ) and "F1 is the facilitator of case BG-1" in str(refused)
        else:
            raise AssertionError("the wall let his facilitator become her worker")


def _partners(team) -> list[Partner]:
    with team.session() as session:
        rows = session.execute(sa.select(Partner)).scalars().all()
        session.expunge_all()
        return rows


def test_her_worker_is_changed_and_her_pending_follow_ups_follow_her(team):
    browser = team.browser("partner_support")
    page = browser.get("/partners/P-1/edit")
    assert page.status_code == 200 and HER_FIELDS_ABSENT(page.text)
    response = browser.post("/partners/P-1/edit", {"relationship": "ex", "support_worker": "SP1"})
    assert response.status_code == 303
    with team.session() as session:
        from followup.models import Staff

        worker = session.execute(sa.select(Staff.id).where(Staff.staff_id == "SP1")).scalar_one()
        her = session.execute(sa.select(Partner).where(Partner.partner_id == "P-1")).scalar_one()
        assert her.relationship == "ex" and her.support_worker_id == worker
        assigned = set(
            session.execute(
                sa.select(FollowUp.assigned_staff_id).where(
                    FollowUp.partner_id == her.id, FollowUp.status == PENDING
                )
            ).scalars()
        )
    assert assigned == {worker}
    [line] = audited(team, "edit_partner")
    assert line.actor == "web:partner_support" and line.entity_id == "P-1"


def HER_FIELDS_ABSENT(text: str) -> bool:  # noqa: N802  (reads as a sentence in the test)
    """The edit page asks no contact details: they are entered once."""
    return 'name="phone"' not in text and 'name="email"' not in text


def test_a_facilitator_learns_nothing_of_the_partner_forms(team):
    browser = team.browser("facilitator")
    assert browser.get("/participants/BG-1/partners/new").status_code == 404
    assert browser.post("/participants/BG-1/partners/new", partner_form()).status_code == 404
    assert browser.get("/partners/P-1/edit").status_code == 404
    assert browser.get("/partners/nobody/edit").status_code == 404
    assert "partners/new" not in browser.get("/participants/BG-1").text


# --- status --------------------------------------------------------------------------------


def moved_labels(page_text: str) -> list[str]:
    block = re.search(r'<ul id="moved">(.*?)</ul>', page_text, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []


def test_status_from_the_participant_page_says_which_follow_ups_moved_by_their_labels(team):
    browser = team.browser("facilitator")
    page = browser.get("/participants/BG-1")
    assert "/participants/BG-1/status" in page.text
    on = (today(team) - timedelta(days=5)).isoformat()
    for event in ("admitted", "programme_start"):
        response = browser.post("/participants/BG-1/status", {"event": event, "on": on})
        assert response.status_code == 303, response.text
    shown = browser.get(response.headers["location"])
    assert shown.status_code == 200 and "Saved: Programme started." in shown.text
    labels = moved_labels(shown.text)
    assert labels, shown.text
    assert any("End of programme" in label for label in labels)
    assert not any("end_of_programme" in label or "followup_3m" in label for label in labels)
    # His facilitator: none of her follow-ups, though hers moved too.
    assert not any("partner" in label.lower() for label in labels)
    # A supervisor who supports partners too is told hers moved as well.
    both = moved_labels(team.browser("supervisor_ps").get(response.headers["location"]).text)
    assert len(both) > len(labels) and any("badge partner" in label for label in both)
    assert participant(team, "BG-1").programme_start_on.isoformat() == on
    lines = [a for a in audited(team, "record_status") if a.entity_id == "BG-1"]
    assert {a.actor for a in lines} == {"web:facilitator"} and len(lines) == 2


def test_status_keeps_the_order_rules_of_the_cli_and_words_them_for_the_web(team):
    browser = team.browser("facilitator")
    early = (today(team) - timedelta(days=20)).isoformat()  # before his enrolment
    response = browser.post("/participants/BG-1/status", {"event": "admitted", "on": early})
    assert response.status_code == 422
    assert "Not saved:" in response.text and "before enrolment" in response.text
    assert "--on" not in response.text and "Hint" not in response.text
    completed = browser.post(
        "/participants/BG-1/status", {"event": "completed", "on": today(team).isoformat()}
    )
    assert completed.status_code == 422 and "no admission on record" in completed.text
    missing = browser.post("/participants/BG-1/status", {"event": "", "on": ""})
    assert missing.status_code == 422
    assert 'id="event-error"' in missing.text and 'id="on-error"' in missing.text
    assert participant(team, "BG-1").admitted_on is None


def test_the_cli_and_the_web_give_the_same_follow_up_dates_for_the_same_status(team):
    """Twin cases, enrolled alike: the same status changes by `followup record status` for
    one and through the Status page for the other leave the same follow-up dates, and the
    same refusal."""
    day = today(team)
    for twin in ("TWIN-CLI", "TWIN-WEB"):
        result = team.deployment.run(
            "enrol", twin, "--site", "BG", "--referral-source", "court",
            "--enrolled-on", (day - timedelta(days=30)).isoformat(),
            "--facilitator", "F1", "--protocol", "undp-serbia",
        )  # fmt: skip
        assert result.exit_code == 0, result.err
    steps = [
        ("admitted", day - timedelta(days=25)),
        ("programme_start", day - timedelta(days=20)),
        ("dropped_out", day - timedelta(days=1)),
    ]
    browser = team.browser("supervisor")
    for event, on in steps:
        result = team.deployment.run("record", "status", "TWIN-CLI", event, "--on", on.isoformat())
        assert result.exit_code == 0, result.err
        response = browser.post(
            "/participants/TWIN-WEB/status", {"event": event, "on": on.isoformat()}
        )
        assert response.status_code == 303
    assert pending_dates(team, "TWIN-CLI") == pending_dates(team, "TWIN-WEB")
    assert pending_dates(team, "TWIN-CLI")  # something to compare
    refused = team.deployment.run(
        "record", "status", "TWIN-CLI", "completed", "--on", day.isoformat()
    )
    web = browser.post(
        "/participants/TWIN-WEB/status", {"event": "completed", "on": day.isoformat()}
    )
    assert refused.exit_code != 0 and web.status_code == 422
    assert "a participation has one ending" in refused.err
    assert "a participation has one ending" in web.text
    problem = re.search(r'<p class="problem" role="alert">(.*?)</p>', web.text).group(1)
    assert "dropped out on" in problem and "dropped_out" not in problem


def test_partner_support_may_not_record_his_status(team):
    browser = team.browser("partner_support")
    assert "/participants/BG-1/status" not in browser.get("/participants/BG-1").text
    assert browser.get("/participants/BG-1/status").status_code == 403
    response = browser.post(
        "/participants/BG-1/status", {"event": "admitted", "on": today(team).isoformat()}
    )
    assert response.status_code == 403
    assert participant(team, "BG-1").admitted_on is None


def test_another_sites_facilitator_finds_no_such_case(team):
    browser = team.browser("ns_facilitator")
    assert browser.get("/participants/BG-1/status").status_code == 404
    assert browser.get("/participants/BG-1/check").status_code == 404


# --- reports and checks --------------------------------------------------------------------


def alerts_for(team, case_id: str) -> int:
    with team.session() as session:
        return session.execute(
            sa.select(sa.func.count(SafetyAlert.id))
            .join(Participant, Participant.id == SafetyAlert.participant_id)
            .where(Participant.case_id == case_id)
        ).scalar_one()


def test_her_report_of_new_violence_raises_the_safety_alert_as_an_interview_does(team):
    browser = team.browser("partner_support")
    day = today(team)
    response = browser.post(
        "/participants/BG-1/recidivism",
        {
            "on": (day - timedelta(days=2)).isoformat(),
            "reported_on": day.isoformat(),
            "source": "partner",
            "partner_id": "P-1",
            "type_physical": "yes",
            "notes": "At the bus stop.",
        },
    )
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert "alert" in query
    shown = browser.get(response.headers["location"])
    assert f"/alerts/{query['alert'][0]}" in shown.text
    assert alerts_for(team, "BG-1") == 1
    with team.session() as session:
        event = session.execute(sa.select(Event).where(Event.kind == "recidivism")).scalar_one()
        assert event.source == "partner" and event.physical is True and event.sexual is None
        assert event.notes_sealed is not None and "bus stop" not in str(event.notes_sealed)
    assert [a.actor for a in audited(team, "record_recidivism")] == ["web:partner_support"]


def test_a_facilitator_reports_violence_but_is_never_offered_her_as_the_source(team):
    browser = team.browser("facilitator")
    page = browser.get("/participants/BG-1/recidivism")
    assert page.status_code == 200
    assert '<option value="partner"' not in page.text and "P-1" not in page.text
    hers = browser.post(
        "/participants/BG-1/recidivism",
        {"on": today(team).isoformat(), "source": "partner", "type_physical": "yes"},
    )
    assert hers.status_code == 422 and 'id="source-error"' in hers.text
    response = browser.post(
        "/participants/BG-1/recidivism",
        {"on": today(team).isoformat(), "source": "police", "type_psychological": "yes"},
    )
    assert response.status_code == 303
    assert "alert=" not in response.headers["location"]  # the alert is hers: not his to open
    assert alerts_for(team, "BG-1") == 1


def test_a_report_dated_before_the_violence_is_refused_next_to_the_field(team):
    browser = team.browser("facilitator")
    day = today(team)
    response = browser.post(
        "/participants/BG-1/recidivism",
        {
            "on": day.isoformat(),
            "reported_on": (day - timedelta(days=1)).isoformat(),
            "source": "police",
        },
    )
    assert response.status_code == 422 and 'id="reported_on-error"' in response.text
    assert alerts_for(team, "BG-1") == 0


def test_a_police_record_check_with_no_new_offence_is_recorded(team):
    browser = team.browser("supervisor")
    response = browser.post(
        "/participants/BG-1/check", {"on": today(team).isoformat(), "new_offence": "no"}
    )
    assert response.status_code == 303
    assert "no new offence" in browser.get(response.headers["location"]).text
    with team.session() as session:
        event = session.execute(sa.select(Event).where(Event.kind == "record_check")).scalar_one()
        assert event.new_offence is False
    assert [a.actor for a in audited(team, "record_check")] == ["web:supervisor"]
    missing = browser.post("/participants/BG-1/check", {"on": today(team).isoformat()})
    assert missing.status_code == 422 and 'id="new_offence-error"' in missing.text


def test_evaluators_reach_none_of_the_case_forms(team):
    browser = team.browser("evaluator")
    for path in ("status", "recidivism", "check"):
        assert browser.get(f"/participants/BG-1/{path}").status_code == 404
