"""Who may do what: every authorisation rule, one function per action.

The operations (followup.operations) ask here and nowhere else, for the web and the CLI
alike (the CLI acts as an explicit principal: `--as` an account, or the operator as
administrator). The rules (../shared/DESIGN.md):

- facilitator: the participants of their own site and their follow-ups; never anything
  about a partner — not her follow-ups, not her consent, not that she reported violence;
- partner_support: the partners of their own site, their follow-ups and records (and the
  participant's status, which her follow-ups depend on);
- supervisor: their own site; the status of follow-ups on both sides of the partner wall,
  partner content only when also partner_support; safety alerts;
- evaluator: aggregates only, suppressed, for the sites granted to them;
- manager: protocols and schedule plans;
- admin: everything, every site — audited like everyone else.

An account's roles are the account's roles *and* the staff member's (see
followup.models.UserAccount), evaluated at every request.

The wall is checked by person as well as by role: the man's facilitator sees nothing of
hers — not her record, her follow-ups, her contact details or the safety alerts raised
for her — whatever roles he holds, partner_support and admin included. So every rule on
her side takes the case's facilitator (`Participant.facilitator_id`) and every query on
her side leaves out the cases this person facilitates. The same assignment is refused
where it is made (followup.wall).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from followup.errors import Forbidden, NotVisible
from followup.models import FollowUp, Participant
from followup.vocab import Role

__all__ = ["Forbidden", "NotVisible", "Principal", "operator"]

FACILITATOR, PARTNER_SUPPORT, SUPERVISOR = Role.facilitator, Role.partner_support, Role.supervisor
EVALUATOR, MANAGER, ADMIN = Role.evaluator, Role.manager, Role.admin
CASEWORK = frozenset({FACILITATOR, PARTNER_SUPPORT, SUPERVISOR})


@dataclass(frozen=True)
class Principal:
    """The person asking, as every rule sees them: a signed-in account, an account the
    CLI acts as (`--as`), or the CLI's operator (an administrator with no staff record)."""

    account_id: int | None
    username: str
    staff_pk: int | None
    staff_id: str | None
    name: str
    site: str
    roles: frozenset[str]
    granted_sites: frozenset[str] | None  # evaluators; None: every site
    language: str
    timezone: str
    csrf_token: str
    via: str = "web"  # the audit actor: "web:alice", "cli:ops", "cli:ops as alice"

    @property
    def actor(self) -> str:
        return self.via if ":" in self.via else f"{self.via}:{self.username}"

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def at(self, site: str, *roles: str) -> bool:
        """Holds one of `roles` at `site` (administrators: everywhere)."""
        return self.is_admin or (self.site == site and self.has(*roles))

    def facilitates(self, facilitator: int | None) -> bool:
        """This person is the man's facilitator (the case's `facilitator_id`)."""
        return facilitator is not None and facilitator == self.staff_pk


# --- pages (may this person open this kind of page at all?) --------------------------


def list_followups(p: Principal) -> bool:
    return p.is_admin or p.has(*CASEWORK)


def list_site_followups(p: Principal) -> bool:
    """Everyone's follow-ups at the site (their status), not only one's own."""
    return p.is_admin or p.has(SUPERVISOR)


def followup_sites(p: Principal, sites: Iterable[str]) -> list[str]:
    """The sites whose follow-ups a site-wide list covers."""
    return list(sites) if p.is_admin else [p.site]


def search(p: Principal) -> bool:
    return p.is_admin or p.has(*CASEWORK)


def open_participants(p: Principal) -> bool:
    return p.is_admin or p.has(*CASEWORK)


def open_partners(p: Principal) -> bool:
    return p.is_admin or p.has(PARTNER_SUPPORT)


def open_alerts(p: Principal) -> bool:
    return p.is_admin or p.has(PARTNER_SUPPORT, SUPERVISOR)


def view_outcomes(p: Principal) -> bool:
    return p.is_admin or p.has(EVALUATOR)


def plan_schedules(p: Principal) -> bool:
    return p.is_admin or p.has(MANAGER)


def read_audit(p: Principal) -> bool:
    return p.is_admin


def manage_accounts(p: Principal) -> bool:
    """Staff records and web accounts: add, invite, roles and sites, deactivate, reset."""
    return p.is_admin


def signed_in(p: Principal) -> bool:
    return True


# --- records (may this person see or change this one?) ---------------------------------


def view_participant(p: Principal, site: str) -> bool:
    return p.at(site, *CASEWORK)


def view_participant_content(p: Principal, site: str) -> bool:
    """His interviews' answers and notes, reports of his violence, his record checks.
    Partner-support workers too: what is known about him is part of her safety."""
    return p.at(site, *CASEWORK)


def view_partner_status(p: Principal, site: str, facilitator: int | None) -> bool:
    """That a partner follow-up exists, its checkpoint, dates and status: no more.
    `facilitator`: the staff pk of the man's facilitator, who never sees any of hers."""
    return p.at(site, PARTNER_SUPPORT, SUPERVISOR) and not p.facilitates(facilitator)


def view_partner(p: Principal, site: str, facilitator: int | None) -> bool:
    """Her record: consent, safe-contact rules, interviews, reports, contact details."""
    return p.at(site, PARTNER_SUPPORT) and not p.facilitates(facilitator)


def change_partner(p: Principal, site: str, facilitator: int | None) -> bool:
    return view_partner(p, site, facilitator)


def view_followup(p: Principal, subject: str, site: str, facilitator: int | None) -> bool:
    if subject == "partner":
        return view_partner_status(p, site, facilitator)
    return view_participant(p, site)


def record_followup(p: Principal, subject: str, site: str, facilitator: int | None) -> bool:
    if subject == "partner":
        return p.at(site, PARTNER_SUPPORT) and not p.facilitates(facilitator)
    return p.at(site, FACILITATOR)


def enrol(p: Principal, site: str) -> bool:
    return p.at(site, FACILITATOR, SUPERVISOR)


def record_status(p: Principal, site: str) -> bool:
    """Admission, programme start, completion, dropout…: his facilitator or a supervisor."""
    return p.at(site, FACILITATOR, SUPERVISOR)


def open_enrolment(p: Principal) -> bool:
    """The Enrol page: those who may enrol at some site (which sites: `enrol`)."""
    return p.is_admin or p.has(FACILITATOR, SUPERVISOR)


def add_partner(p: Principal, site: str, facilitator: int | None) -> bool:
    """A new partner of his: her record, so her side only, and never his facilitator."""
    return p.at(site, PARTNER_SUPPORT) and not p.facilitates(facilitator)


def participant_actions(p: Principal, site: str, facilitator: int | None) -> frozenset[str]:
    """What the participant page offers this person (each action's own rule)."""
    offered = {
        "status": record_status(p, site),
        "recidivism": view_participant_content(p, site),
        "check": view_participant_content(p, site),
        "add_partner": add_partner(p, site, facilitator),
    }
    return frozenset(action for action, allowed in offered.items() if allowed)


def view_alert(p: Principal, site: str, facilitator: int | None) -> bool:
    """A safety alert exists to protect her: never shown to the man's facilitator."""
    return p.at(site, PARTNER_SUPPORT, SUPERVISOR) and not p.facilitates(facilitator)


def acknowledge_alert(p: Principal, site: str, facilitator: int | None) -> bool:
    return view_alert(p, site, facilitator)


def outcome_sites(p: Principal, sites: Iterable[str]) -> list[str]:
    """The sites whose aggregates this person may read."""
    every = list(sites)
    if p.is_admin or (EVALUATOR in p.roles and p.granted_sites is None):
        return every
    if EVALUATOR not in p.roles:
        return []
    return [code for code in every if code in p.granted_sites]


def unsuppressed_outcomes(p: Principal) -> bool:
    """Small counts shown as they are: administrators only (and audited)."""
    return p.is_admin


def apply_schedules(p: Principal) -> bool:
    return plan_schedules(p)


# --- queries (the same rules as SQL conditions) ----------------------------------------


def _not_his_facilitator(p: Principal) -> sa.ColumnElement[bool]:
    """Cases this person does not facilitate; the query joins Participant."""
    if p.staff_pk is None:  # the CLI operator facilitates no one
        return sa.true()
    return sa.or_(Participant.facilitator_id.is_(None), Participant.facilitator_id != p.staff_pk)


def followup_scope(p: Principal) -> sa.ColumnElement[bool]:
    """The follow-ups whose status this person may see; the query joins Participant."""
    hers = sa.and_(FollowUp.partner_id.is_not(None), _not_his_facilitator(p))
    if p.is_admin:
        return sa.or_(FollowUp.partner_id.is_(None), hers)
    sides = []
    if p.has(*CASEWORK):
        sides.append(FollowUp.partner_id.is_(None))
    if p.has(PARTNER_SUPPORT, SUPERVISOR):
        sides.append(hers)
    if not sides:
        return sa.false()
    return sa.and_(Participant.site_code == p.site, sa.or_(*sides))


def participant_scope(p: Principal) -> sa.ColumnElement[bool]:
    if p.is_admin:
        return sa.true()
    return Participant.site_code == p.site if p.has(*CASEWORK) else sa.false()


def partner_scope(p: Principal) -> sa.ColumnElement[bool]:
    """Partners this person may find and open; the query joins Participant."""
    if p.is_admin:
        return _not_his_facilitator(p)
    if not p.has(PARTNER_SUPPORT):
        return sa.false()
    return sa.and_(Participant.site_code == p.site, _not_his_facilitator(p))


def alert_scope(p: Principal) -> sa.ColumnElement[bool]:
    """Safety alerts this person may see; the query joins Participant."""
    if p.is_admin:
        return _not_his_facilitator(p)
    if not p.has(PARTNER_SUPPORT, SUPERVISOR):
        return sa.false()
    return sa.and_(Participant.site_code == p.site, _not_his_facilitator(p))


def operator(login: str) -> Principal:
    """The CLI's operator without `--as`: an administrator of every site, audited as
    `cli:LOGIN` (the person at the server's shell, who can read the database anyway)."""
    return Principal(
        account_id=None,
        username=login,
        staff_pk=None,
        staff_id=None,
        name=login,
        site="",
        roles=frozenset({ADMIN}),
        granted_sites=None,
        language="en",
        timezone="UTC",
        csrf_token="",
        via=f"cli:{login}",
    )
