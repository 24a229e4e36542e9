"""The web app's cast and props.

Two centres. At BG: F1 (facilitator), PS1 (partner support), SV1 (supervisor only),
SP1 (supervisor and partner support), EV1 (evaluator), MG1 (manager), AD1 (admin).
At NS: F2 (facilitator) and PS2 (partner support). One login per person, named after
the role (`facilitator`, `partner_support`, …, `ns_facilitator`, `ns_partner_support`),
all with PASSWORD.

Cases: BG-1 (facilitator F1) with partner P-1 (consent given, worker PS1), enrolled ten
days ago so his intake assessment and her first contact are due now; NS-1 (F2) with
partner P-NS1 (PS2). Her contact details are planted so tests can look for leaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from followup.http import create_app
from followup.models import Event, FollowUp, Interview, Participant, Partner, SafetyAlert

PASSWORD = "correct horse battery"
HER_PHONE = "+381601234567"
HER_EMAIL = "mirjana.p1@example.net"

STAFF = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,console,en
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,console,en
SV1,BG,Vesna Ilić,supervisor,,vesna@example.org,console,en
SP1,BG,Jelena Marković,supervisor;partner_support,,jelena@example.org,console,en
EV1,BG,Stefan Nikolić,evaluator,,stefan@example.org,console,en
MG1,BG,Milica Hoxha,manager,,milica@example.org,console,en
AD1,BG,Dragan Đorđević,admin,,dragan@example.org,console,en
F2,NS,Ivan Ilić,facilitator,,ivan@example.org,console,en
PS2,NS,Ivana Krasniqi,partner_support,,ivana@example.org,console,en
"""

# login -> (staff id, roles)
LOGINS = {
    "facilitator": ("F1", ("facilitator",)),
    "partner_support": ("PS1", ("partner_support",)),
    "supervisor": ("SV1", ("supervisor",)),
    "supervisor_ps": ("SP1", ("supervisor", "partner_support")),
    "evaluator": ("EV1", ("evaluator",)),
    "manager": ("MG1", ("manager",)),
    "admin": ("AD1", ("admin",)),
    "ns_facilitator": ("F2", ("facilitator",)),
    "ns_partner_support": ("PS2", ("partner_support",)),
}


@dataclass
class Team:
    deployment: object
    app: object

    @property
    def ctx(self):
        return self.deployment.ctx

    def session(self):
        return self.deployment.session()

    def followup_id(self, case_id: str, checkpoint: str, partner: bool = False) -> int:
        with self.session() as session:
            return (
                session.execute(
                    sa.select(FollowUp.id)
                    .join(Participant, Participant.id == FollowUp.participant_id)
                    .where(
                        Participant.case_id == case_id,
                        FollowUp.checkpoint == checkpoint,
                        FollowUp.partner_id.is_not(None)
                        if partner
                        else FollowUp.partner_id.is_(None),
                    )
                    .order_by(FollowUp.occurrence)
                )
                .scalars()
                .first()
            )

    def followup(self, followup_id: int) -> FollowUp:
        with self.session() as session:
            return session.get(FollowUp, followup_id)

    def partner(self, partner_id: str) -> Partner:
        with self.session() as session:
            return session.execute(
                sa.select(Partner).where(Partner.partner_id == partner_id)
            ).scalar_one()

    def plan(self, partner_id: str):
        """Her safe-contact plan as stored (followup.safe_contact.SafeContactPlan or None)."""
        from followup.her_plan import plan_of

        return plan_of(self.ctx.vault, self.partner(partner_id))

    def browser(self, login: str | None = None, **kwargs) -> Browser:
        browser = Browser(TestClient(self.app, follow_redirects=False, **kwargs))
        if login is not None:
            response = browser.login(login)
            assert response.status_code == 303, f"{login} could not log in: {response.status_code}"
        return browser


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A TestClient that logs in through the login form, as a person would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf())
        return self.client.post(path, data=form, **kwargs)

    def csrf(self) -> str:
        page = self.client.get("/account")
        if page.status_code != 200:
            page = self.client.get("/login")
        return _CSRF.search(page.text).group(1)

    def login(self, username: str, password: str = PASSWORD):
        page = self.client.get("/login")
        token = _CSRF.search(page.text).group(1) if page.status_code == 200 else self.csrf()
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token, "next": ""},
        )


def build_team(deployment) -> Team:
    def run(*args):
        result = deployment.run(*args)
        assert result.exit_code == 0, result.err
        return result

    run("import", "staff", str(deployment.csv("staff.csv", STAFF)))
    today = deployment.ctx.site_today("BG")
    enrolled = (today - timedelta(days=10)).isoformat()
    run(
        "enrol",
        "BG-1",
        "--site",
        "BG",
        "--referral-source",
        "court",
        "--enrolled-on",
        enrolled,
        "--facilitator",
        "F1",
        "--protocol",
        "undp-serbia",
    )
    run(
        "enrol",
        "NS-1",
        "--site",
        "NS",
        "--referral-source",
        "police",
        "--enrolled-on",
        enrolled,
        "--facilitator",
        "F2",
        "--protocol",
        "undp-serbia",
    )
    consent = (today - timedelta(days=5)).isoformat()
    run(
        "import",
        "partners",
        str(
            deployment.csv(
                "partners.csv",
                f"""\
        partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker,safe_hours
        P-1,BG-1,current,{consent},phone,{HER_PHONE},{HER_EMAIL},PS1,10:00-12:00
        P-NS1,NS-1,ex,{consent},sms,+381607654321,,PS2,
        """,
            )
        ),
    )
    from followup.operations.accounts import add_account

    with deployment.session() as session:
        for username, (staff_id, roles) in LOGINS.items():
            add_account(
                session,
                deployment.ctx,
                username=username,
                staff_id=staff_id,
                roles=roles,
                password=PASSWORD,
                language="en",
            )
    return Team(deployment=deployment, app=create_app(deployment.ctx))


@pytest.fixture
def team(deployment) -> Team:
    return build_team(deployment)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """argon2 at its production cost takes a tenth of a second a hash; the tests hash
    dozens. The parameters are not under test, the flow is."""
    from argon2 import PasswordHasher

    from followup.operations import accounts

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def samples(team: Team) -> dict:
    """Records to put in paths: follow-ups on both sides of the wall and at both sites,
    a safety alert at each site (a police report of new violence)."""
    today = team.ctx.site_today("BG")
    for case_id in ("BG-1", "NS-1"):
        result = team.deployment.run(
            "record",
            "recidivism",
            case_id,
            "--on",
            today.isoformat(),
            "--source",
            "police",
            "--physical",
            "yes",
        )
        assert result.exit_code == 0, result.err
    with team.session() as session:
        alerts = dict(
            session.execute(
                sa.select(Participant.case_id, SafetyAlert.id).join(
                    Participant, Participant.id == SafetyAlert.participant_id
                )
            ).all()
        )
    records = _sample_records(team, today)
    return {
        **records,
        "his": team.followup_id("BG-1", "intake_assessment"),
        "hers": team.followup_id("BG-1", "partner_first_contact", partner=True),
        "ns_his": team.followup_id("NS-1", "intake_assessment"),
        "his_later": team.followup_id("BG-1", "end_of_programme"),
        "hers_later": team.followup_id("BG-1", "end_of_programme", partner=True),
        "bg_alert": alerts["BG-1"],
        "ns_alert": alerts["NS-1"],
        "BG-1": "BG-1",
        "account": "ns_facilitator",  # an account the admin's rows may reset and deactivate
        "NS-1": "NS-1",
        "P-1": "P-1",
        "P-NS1": "P-NS1",
        "csv": "csv",
    }


def _sample_records(team: Team, today) -> dict:
    """Interviews and events to correct (corrections): his, hers, and one at the other
    site. Unscheduled contacts, so no follow-up above changes."""
    for case_id, informant, partner in (
        ("BG-1", "participant", None),
        ("BG-1", "partner", "P-1"),
        ("NS-1", "participant", None),
    ):
        args = ["record", "interview", case_id, "--informant", informant, "--unscheduled"]
        args += ["--on", today.isoformat(), "--physical", "no"]
        args += ["--partner", partner, "--safe-to-talk", "yes"] if partner else []
        result = team.deployment.run(*args)
        assert result.exit_code == 0, result.err
    with team.session() as session:
        interviews = session.execute(
            sa.select(Participant.case_id, Interview.informant, Interview.id)
            .join(Participant, Participant.id == Interview.participant_id)
            .order_by(Interview.id)
        ).all()
        events = dict(
            session.execute(
                sa.select(Participant.case_id, Event.id)
                .join(Participant, Participant.id == Event.participant_id)
                .where(Event.kind == "recidivism")
            ).all()
        )
    ids = {(case_id, informant): i for case_id, informant, i in interviews}
    return {
        "interview": "interview",
        "event": "event",
        "his_interview": ids[("BG-1", "participant")],
        "her_interview": ids[("BG-1", "partner")],
        "ns_interview": ids[("NS-1", "participant")],
        "bg_event": events["BG-1"],
        "ns_event": events["NS-1"],
    }
