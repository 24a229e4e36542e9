"""Web accounts: creating them, passwords, invites, login with throttling, deactivation.

Used by `followup user …` (followup.cli.accounts) and the login and invite pages. Passwords
are hashed with argon2id (argon2-cffi's defaults, re-hashed at login when they change);
invite links are random tokens stored as SHA-256 digests. Failed logins are throttled
per user name and per address (table `login_failure`), and a name that matches no
account is treated exactly like one that does, so neither the message nor the timing
tells anyone which user names exist.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from followup import lookup, wall
from followup.audit import audit
from followup.config import LANGUAGES
from followup.context import Context
from followup.errors import FollowupError, Forbidden, InvalidRecord, NotFound
from followup.imports.csvfile import Problems
from followup.models import ROLES, LoginFailure, Staff, UserAccount, WebSession
from followup.operations import policy
from followup.operations.policy import Principal
from followup.tokens import digest, new_token

MIN_PASSWORD = 10
ALL_SITES = "*"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()


class LoginRefused(FollowupError):
    """Wrong user name or password, or too many attempts. Deliberately vague."""

    def __init__(self, throttled: bool = False) -> None:
        self.throttled = throttled
        super().__init__("too many failed attempts" if throttled else "wrong user name or password")


def parse_username(text: str) -> str:
    name = (text or "").strip().lower()
    if not _USERNAME.match(name):
        raise InvalidRecord(
            f"user name {text!r} must be 2-64 letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    return name


PASSWORD_PROBLEMS = {
    "password.too_short": f"a password needs at least {MIN_PASSWORD} characters",
    "password.too_easy": "that password is too easy to guess; choose a longer, less regular one",
}


def password_problem(password: str, username: str) -> str | None:
    """What is wrong with a new password, as a key of PASSWORD_PROBLEMS (and of the web's
    catalogues), or None."""
    if len(password) < MIN_PASSWORD:
        return "password.too_short"
    if password.strip().lower() == username.lower() or len(set(password)) < 4:
        return "password.too_easy"
    return None


def check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem is not None:
        raise InvalidRecord(PASSWORD_PROBLEMS[problem])


def find(session: Session, username: str) -> UserAccount:
    found = session.execute(
        sa.select(UserAccount).where(UserAccount.username == username.strip().lower())
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no user {username!r}. Hint: `followup user list` shows them")
    return found


def _roles(staff: Staff, roles: Iterable[str]) -> str:
    wanted = list(dict.fromkeys(r.strip().lower() for r in roles if r.strip()))
    if not wanted:
        raise InvalidRecord(f"give at least one --role: {', '.join(ROLES)}")
    for role in wanted:
        if role not in ROLES:
            raise InvalidRecord(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        if role not in staff.role_set:
            raise InvalidRecord(
                f"staff member {staff.staff_id} does not have the {role} role (they have "
                f"{staff.roles or 'none'}). Hint: give it to them in the staff file and re-import it"
            )
    return ";".join(wanted)


def _sites(ctx: Context, sites: Iterable[str] | None) -> str | None:
    chosen = [s.strip() for s in sites or () if s.strip()]
    if not chosen:
        return None
    if ALL_SITES in chosen:
        return ALL_SITES
    for code in chosen:
        if code not in ctx.config.sites:
            raise NotFound(
                f"site {code!r} is not in {ctx.config.path}. Hint: one of {', '.join(ctx.config.sites)}"
            )
    return ";".join(dict.fromkeys(chosen))


def _language(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        raise InvalidRecord(
            f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}"
        )
    return language


def set_password(account: UserAccount, password: str, now: datetime) -> None:
    """A new password. The calendar feed stops with the old one: whoever may have used the
    old password could have made a feed address, and a feed needs no login."""
    check_password(password, account.username)
    account.password_hash = _hasher.hash(password)
    account.password_changed_at = now
    account.invite_hash = account.invite_expires_at = None
    account.calendar_token_hash = None


def add_account(
    session: Session,
    ctx: Context,
    *,
    username: str,
    staff_id: str,
    roles: Iterable[str],
    sites: Iterable[str] | None = None,
    language: str | None = None,
    password: str | None = None,
) -> UserAccount:
    """A new account; without a password it can only be used through an invite link."""
    username = parse_username(username)
    if session.execute(sa.select(UserAccount.id).where(UserAccount.username == username)).first():
        raise InvalidRecord(
            f"user {username!r} already exists. Hint: `followup user reset-password {username}`"
        )
    staff = lookup.staff(session, staff_id)
    if not staff.active:
        raise InvalidRecord(f"staff member {staff_id} is not active")
    granted = _roles(staff, roles)
    wall.check_her_roles(session, staff.staff_id, granted.split(";"))
    account = UserAccount(
        username=username,
        staff_id=staff.id,
        roles=granted,
        sites=_sites(ctx, sites),
        language=_language(language),
    )
    if password is not None:
        set_password(account, password, ctx.now())
    session.add(account)
    session.flush()
    audit(
        session,
        ctx.actor,
        "user_add",
        "user",
        username,
        staff=staff.staff_id,
        roles=account.roles,
        sites=account.sites,
    )
    return account


def issue_invite(
    session: Session, ctx: Context, account: UserAccount, now: datetime | None = None
) -> str:
    """A link with which the person sets their own password; it works once."""
    token = new_token()
    account.invite_hash = digest(token)
    account.invite_expires_at = (now or ctx.now()) + timedelta(days=ctx.config.web.invite_days)
    session.flush()
    return f"{ctx.config.web.base_url.rstrip('/')}/invite/{token}"


def invited(session: Session, token: str, now: datetime) -> UserAccount | None:
    account = session.execute(
        sa.select(UserAccount).where(UserAccount.invite_hash == digest(token))
    ).scalar_one_or_none()
    if account is None or not account.active or account.invite_expires_at is None:
        return None
    return account if account.invite_expires_at > now else None


def accept_invite(session: Session, token: str, password: str, now: datetime) -> UserAccount:
    account = invited(session, token, now)
    if account is None:
        raise InvalidRecord("this link is not valid any more; ask an administrator for a new one")
    set_password(account, password, now)
    end_access(session, account)
    audit(
        session, f"web:{account.username}", "password_set", "user", account.username, via="invite"
    )
    return account


def reset_password(
    session: Session, ctx: Context, username: str, password: str | None
) -> str | None:
    """A new password, or (without one) an invite link. Ends the person's sessions and
    lifts any login throttle on the name. Returns the link, if one was made."""
    account = find(session, username)
    link = None
    if password is not None:
        set_password(account, password, ctx.now())
    else:
        account.password_hash = None
        link = issue_invite(session, ctx, account)
    account.failed_logins = 0
    end_access(session, account)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == account.username))
    audit(
        session,
        ctx.actor,
        "user_reset_password",
        "user",
        account.username,
        via="password" if password is not None else "invite",
    )
    return link


def set_active(session: Session, ctx: Context, username: str, active: bool) -> UserAccount:
    account = find(session, username)
    account.active = active
    if not active:  # and activating again does not bring them back
        end_access(session, account)
    audit(
        session,
        ctx.actor,
        "user_activate" if active else "user_deactivate",
        "user",
        account.username,
    )
    return account


def end_sessions(session: Session, account_id: int) -> None:
    session.execute(sa.delete(WebSession).where(WebSession.account_id == account_id))


def end_access(session: Session, account: UserAccount) -> None:
    """Everything that lets someone in without the password: the browser sessions and the
    calendar feed. For a password reset, an accepted invite and a deactivation."""
    end_sessions(session, account.id)
    account.calendar_token_hash = None


@dataclass(frozen=True)
class AccountRow:
    username: str
    staff_id: str
    site: str
    roles: str
    sites: str | None
    language: str | None
    active: bool
    invited: bool
    failed_logins: int
    last_login_at: datetime | None
    calendar: bool

    def to_json(self) -> dict:
        return {
            "username": self.username,
            "staff_id": self.staff_id,
            "site": self.site,
            "roles": self.roles.split(";"),
            "sites": self.sites,
            "language": self.language,
            "active": self.active,
            "invited": self.invited,
            "failed_logins": self.failed_logins,
            "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None,
            "calendar_feed": self.calendar,
        }


def list_accounts(session: Session, username: str | None = None) -> list[AccountRow]:
    """Every account, or the one named `username`."""
    query = sa.select(UserAccount, Staff.staff_id, Staff.site_code).join(
        Staff, Staff.id == UserAccount.staff_id
    )
    if username is not None:
        query = query.where(UserAccount.username == username)
    rows = session.execute(query.order_by(UserAccount.username)).all()
    return [
        AccountRow(
            username=a.username,
            staff_id=staff_id,
            site=site,
            roles=a.roles,
            sites=a.sites,
            language=a.language,
            active=a.active,
            invited=a.password_hash is None and a.invite_hash is not None,
            failed_logins=a.failed_logins,
            last_login_at=a.last_login_at,
            calendar=a.calendar_token_hash is not None,
        )
        for a, staff_id, site in rows
    ]


# --- login -------------------------------------------------------------------------


def _throttled(session: Session, ctx: Context, name: str, ip: str, now: datetime) -> bool:
    web = ctx.config.web
    since = now - timedelta(minutes=web.login_window_minutes)
    by_name = session.execute(
        sa.select(sa.func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == name, LoginFailure.at >= since)
    ).scalar_one()
    if by_name >= web.login_max_failures:
        return True
    by_ip = session.execute(
        sa.select(sa.func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.ip == ip, LoginFailure.at >= since)
    ).scalar_one()
    return by_ip >= web.login_ip_max_failures


def authenticate(
    session: Session,
    ctx: Context,
    username: str,
    password: str,
    ip: str,
    now: datetime | None = None,
) -> UserAccount:
    """The account, or LoginRefused. Every attempt leaves an audit line (never the password)."""
    now = now or ctx.now()
    name = (username or "").strip().lower()[:64]
    ip = (ip or "unknown")[:64]
    if _throttled(session, ctx, name, ip, now):
        audit(session, f"web:{name}", "login_throttled", "user", name, ip=ip)
        raise LoginRefused(throttled=True)
    account = session.execute(
        sa.select(UserAccount).where(UserAccount.username == name)
    ).scalar_one_or_none()
    # Exactly one password verification whatever the name: unknown, inactive, invited (no
    # password yet) or real. Checking `active` first answered an inactive account in a
    # fraction of the time, which told anyone that the name exists.
    verified = verify_password(account, password)
    if verified and account.active and _staff_active(session, account):
        session.execute(sa.delete(LoginFailure).where(LoginFailure.username == name))
        account.failed_logins, account.last_login_at = 0, now
        if _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = _hasher.hash(password)
        audit(session, f"web:{name}", "login", "user", name, ip=ip)
        return account
    if account is not None:
        account.failed_logins += 1
        account.last_failed_at = now
    window = timedelta(minutes=ctx.config.web.login_window_minutes)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at < now - window))
    session.add(LoginFailure(username=name, ip=ip, at=now))
    audit(session, f"web:{name}", "login_failed", "user", name, ip=ip, known=account is not None)
    raise LoginRefused()


def verify_password(account: UserAccount | None, password: str) -> bool:
    """One argon2 verification, against a dummy hash of the same cost when there is no
    account or no password yet, so every answer takes the same time."""
    stored = account.password_hash if account is not None else None
    try:
        return _hasher.verify(stored or _dummy_hash(_hasher), password or "") and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made with the hasher's own parameters, so verifying against it costs what
    verifying a real password costs (the parameters are in the hash)."""
    return hasher.hash("not a password anyone has")


_dummy_hash(_hasher)  # made now, so the first unknown name does not take twice as long


def _staff_active(session: Session, account: UserAccount) -> bool:
    return bool(
        session.execute(sa.select(Staff.active).where(Staff.id == account.staff_id)).scalar_one()
    )


# --- the demo ------------------------------------------------------------------------

DEMO_PASSWORD = "followup-demo"
# user name, the demo team member (followup.synthetic.staff_for), the account's roles
DEMO_ACCOUNTS = (
    ("facilitator", "F1", ("facilitator",)),
    ("partner-support", "PS", ("partner_support",)),
    ("supervisor", "SV", ("supervisor",)),
    ("evaluator", "EV", ("evaluator",)),
    ("manager", "MG", ("manager",)),
    ("admin", "MG", ("admin",)),
)


def create_demo_accounts(session: Session, ctx: Context, site: str) -> str:
    """One login per role at `site`, all with DEMO_PASSWORD, in English."""
    for username, member, roles in DEMO_ACCOUNTS:
        sites = [ALL_SITES] if "evaluator" in roles else None
        add_account(
            session,
            ctx,
            username=username,
            staff_id=f"{site}-{member}",
            roles=roles,
            sites=sites,
            language="en",
            password=DEMO_PASSWORD,
        )
    names = ", ".join(name for name, _, _ in DEMO_ACCOUNTS)
    return (
        f"Demo logins at {site} (password {DEMO_PASSWORD!r}): {names}. "
        f"Open {ctx.config.web.base_url.rstrip('/')}/login once `followup serve` runs."
    )


def demo_logins(session: Session, ctx: Context) -> str | None:
    """The line `create_demo_accounts` printed, while the demo accounts still have the demo
    password (for `followup serve`'s banner); None on a real deployment."""
    account = session.execute(
        sa.select(UserAccount).where(UserAccount.username == DEMO_ACCOUNTS[0][0])
    ).scalar_one_or_none()
    if account is None or not verify_password(account, DEMO_PASSWORD):
        return None
    site = session.execute(
        sa.select(Staff.site_code).where(Staff.id == account.staff_id)
    ).scalar_one()
    names = ", ".join(name for name, _, _ in DEMO_ACCOUNTS)
    return f"Demo logins at {site} (password {DEMO_PASSWORD!r}): {names}."


# --- my account (the signed-in person's own settings) --------------------------------------


def _mine(session: Session, p: Principal) -> UserAccount:
    if p.account_id is None:
        raise NotFound("the CLI's operator has no web account; use `--as USERNAME`")
    return session.get(UserAccount, p.account_id)


def has_calendar_feed(session: Session, p: Principal) -> bool:
    return _mine(session, p).calendar_token_hash is not None


def set_own_language(session: Session, p: Principal, language: str) -> None:
    _mine(session, p).language = language
    audit(session, p.actor, "user_language", "user", p.username, language=language)


def change_own_password(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    current: str,
    new: str,
    confirm: str,
    keep_session: str,
) -> dict[str, str]:
    """Change this person's password; every other browser signed in as them is signed out
    (`keep_session`: this browser's session token). Returns the form's errors, if any."""
    mine = _mine(session, p)
    if not verify_password(mine, current):
        return {"current": "account.current_wrong"}
    if (problem := password_problem(new, p.username)) is not None:
        return {"new": problem}
    if new != confirm:
        return {"confirm": "password.mismatch"}
    set_password(mine, new, ctx.now())
    keep = digest(keep_session)
    for row in session.query(WebSession).filter(WebSession.account_id == mine.id):
        if row.token_hash != keep:
            session.delete(row)
    audit(session, p.actor, "password_set", "user", p.username, via="account")
    return {}


def new_calendar_token(session: Session, p: Principal) -> str:
    """A new secret feed token (shown once); any earlier one stops working."""
    token = new_token()
    _mine(session, p).calendar_token_hash = digest(token)
    audit(session, p.actor, "calendar_token", "user", p.username, change="new")
    return token


def revoke_calendar_token(session: Session, p: Principal) -> None:
    _mine(session, p).calendar_token_hash = None
    audit(session, p.actor, "calendar_token", "user", p.username, change="revoked")


def live_account(session: Session, account_id: int) -> tuple[UserAccount, Staff] | None:
    """The account behind a web session and its staff member, while both are active and
    the account has a password; None once either is deactivated."""
    account, staff = session.execute(
        sa.select(UserAccount, Staff)
        .join(Staff, Staff.id == UserAccount.staff_id)
        .where(UserAccount.id == account_id)
    ).one()
    if account.active and staff.active and account.password_hash is not None:
        return account, staff
    return None


def calendar_account(session: Session, token: str) -> tuple[UserAccount, Staff] | None:
    """The live account whose calendar feed token this is, or None (unknown, revoked,
    deactivated, or never set up)."""
    found = session.execute(
        sa.select(UserAccount, Staff)
        .join(Staff, Staff.id == UserAccount.staff_id)
        .where(UserAccount.calendar_token_hash == digest(token))
    ).one_or_none()
    if found is None or not found[0].active or not found[1].active:
        return None
    if found[0].password_hash is None:
        return None
    return found[0], found[1]


# --- who a command acts as ------------------------------------------------------------------


def principal_for(
    ctx: Context, account: UserAccount, staff: Staff, *, csrf: str = "", via: str = "web"
) -> Principal:
    """The person behind an account, as every rule sees them: the account's roles that
    the staff member also holds, their site, the sites granted (evaluators)."""
    site = ctx.config.sites.get(staff.site_code)
    granted = None
    if account.sites is None:
        granted = frozenset({staff.site_code})
    elif account.sites != "*":
        granted = frozenset(s for s in account.sites.split(";") if s)
    return Principal(
        account_id=account.id,
        username=account.username,
        staff_pk=staff.id,
        staff_id=staff.staff_id,
        name=staff.name,
        site=staff.site_code,
        roles=account.role_set & staff.role_set,
        granted_sites=granted,
        language=account.language or staff.language or (site.language if site else None) or "en",
        timezone=site.timezone if site else "UTC",
        csrf_token=csrf,
        via=via,
    )


def principal_as(session: Session, ctx: Context, username: str, *, via: str) -> Principal:
    """The CLI's `--as USERNAME`: that account's roles and sites, audited as `via`
    (`cli:LOGIN as USERNAME`). A deactivated account, or one whose staff member left, is
    refused: the CLI cannot lend rights the web would not give."""
    account = find(session, username)
    staff = session.get(Staff, account.staff_id)
    if not account.active or not staff.active:
        raise InvalidRecord(
            f"user {account.username!r} is deactivated. Hint: `followup user list` shows them"
        )
    return principal_for(ctx, account, staff, via=via)


# --- administration: staff and accounts (administrators; the CLI's operator is one) ----------
#
# The browser's Accounts page and `followup staff add` / `followup user …` call these, so
# both check the same rules (the staff file's, for a staff member) and write the same audit.

STAFF_FIELDS = ("staff_id", "site", "name", "roles", "phone", "email", "channel", "language")


def _may_manage(p: Principal) -> None:
    if not policy.manage_accounts(p):
        raise Forbidden(f"{p.username} may not manage staff or web accounts")


class StaffRejected(InvalidRecord):
    """A staff member the staff file would refuse: the problem per field."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {why}" for field, why in problems.items()))


class _ByField(Problems):
    """The staff file's problems for one record, by column, for a form."""

    def __init__(self) -> None:
        super().__init__("staff")
        self.by_field: dict[str, str] = {}

    def add(self, row: int, column: str, message: str) -> None:
        super().add(row, column, message)
        self.by_field.setdefault(column, message)


def add_staff(session: Session, ctx: Context, p: Principal, fields: dict[str, str]) -> Staff:
    """A new member of staff, checked exactly as a row of the staff file (staff.csv) is:
    `fields` has the file's columns, `roles` separated by ';'. An existing staff_id is
    refused (the staff file, re-imported, is how details change)."""
    from followup.imports import staff as staff_file
    from followup.imports.csvfile import Row, cells_are_clean
    from followup.imports.progress import Silent

    _may_manage(p)
    values = {name: str(fields.get(name) or "").strip() for name in STAFF_FIELDS}
    problems = _ByField()
    records = []
    if cells_are_clean(1, values, problems):
        records = staff_file.check(session, ctx, [Row(1, values)], problems, Silent())
    if problems.by_field or not records:
        raise StaffRejected(problems.by_field or {"staff_id": "not accepted"})
    record = records[0]
    if session.execute(sa.select(Staff.id).where(Staff.staff_id == record["staff_id"])).first():
        raise StaffRejected(
            {
                "staff_id": f"staff member {record['staff_id']} already exists. Hint: change "
                "their details in the staff file and import it again"
            }
        )
    staff = Staff(**record)
    session.add(staff)
    session.flush()
    audit(
        session,
        p.actor,
        "staff_add",
        "staff",
        staff.staff_id,
        site=staff.site_code,
        roles=staff.roles,
        channel=staff.channel,
    )
    return staff


def create_user(
    session: Session,
    ctx: Context,
    p: Principal,
    *,
    username: str,
    staff_id: str,
    roles: Iterable[str],
    sites: Iterable[str] | None = None,
    language: str | None = None,
    password: str | None = None,
) -> tuple[UserAccount, str | None]:
    """A web account for a member of staff, with a password or (without one) an invite
    link with which they set their own. The link is returned once and stored only as a
    digest: nobody can show it again, only make a new one (`invite_again`)."""
    _may_manage(p)
    acting_ctx = _acting(ctx, p)
    account = add_account(
        session,
        acting_ctx,
        username=username,
        staff_id=staff_id,
        roles=roles,
        sites=sites,
        language=language,
        password=password,
    )
    link = None
    if password is None:
        link = issue_invite(session, acting_ctx, account)
        audit(session, p.actor, "user_invite", "user", account.username)
    return account, link


def invite_again(session: Session, ctx: Context, p: Principal, username: str) -> str:
    """Reset by invite: the password is cleared, sessions and calendar feed end, and a
    new one-time link is returned (any earlier link stops working)."""
    _may_manage(p)
    link = reset_password(session, _acting(ctx, p), username, None)
    assert link is not None
    return link


def reset_user_password(
    session: Session, ctx: Context, p: Principal, username: str, password: str
) -> None:
    _may_manage(p)
    reset_password(session, _acting(ctx, p), username, password)


def set_user_active(
    session: Session, ctx: Context, p: Principal, username: str, active: bool
) -> UserAccount:
    _may_manage(p)
    if not active and find(session, username).id == p.account_id:
        raise InvalidRecord("you cannot deactivate your own account; ask another administrator")
    return set_active(session, _acting(ctx, p), username, active)


def change_access(
    session: Session,
    ctx: Context,
    p: Principal,
    username: str,
    *,
    roles: Iterable[str],
    sites: Iterable[str] | None,
) -> UserAccount:
    """An account's roles (a subset of its staff member's) and granted sites. Taking a
    role away ends the person's sessions, so it stops at once rather than at next login."""
    _may_manage(p)
    account = find(session, username)
    staff = session.get(Staff, account.staff_id)
    granted = _roles(staff, roles)
    wall.check_her_roles(session, staff.staff_id, granted.split(";"))
    if account.id == p.account_id and "admin" not in granted.split(";"):
        raise InvalidRecord(
            "you cannot take the admin role from your own account; ask another administrator"
        )
    chosen = _sites(ctx, sites)
    before = (account.roles, account.sites)
    if (granted, chosen) == before:
        return account
    lost = set(account.role_set) - set(granted.split(";"))
    account.roles, account.sites = granted, chosen
    if lost or chosen != before[1]:
        end_sessions(session, account.id)
    audit(
        session,
        p.actor,
        "user_access",
        "user",
        account.username,
        roles=granted,
        sites=chosen,
        was_roles=before[0],
        was_sites=before[1],
    )
    return account


def _acting(ctx: Context, p: Principal) -> Context:
    from followup.operations.acting import acting

    return acting(ctx, p)


@dataclass(frozen=True)
class StaffRow:
    staff_id: str
    site: str
    name: str
    roles: str
    channel: str
    active: bool
    accounts: tuple[str, ...]  # the user names of their web accounts


def list_staff(session: Session, p: Principal) -> list[StaffRow]:
    """Every member of staff with their web accounts (for the Accounts page)."""
    _may_manage(p)
    accounts: dict[int, list[str]] = {}
    for staff_pk, username in session.execute(
        sa.select(UserAccount.staff_id, UserAccount.username).order_by(UserAccount.username)
    ):
        accounts.setdefault(staff_pk, []).append(username)
    return [
        StaffRow(
            s.staff_id,
            s.site_code,
            s.name,
            s.roles,
            s.channel,
            s.active,
            tuple(accounts.get(s.id, ())),
        )
        for s in session.execute(
            sa.select(Staff).order_by(Staff.site_code, Staff.staff_id)
        ).scalars()
    ]


def accounts_for_admin(session: Session, p: Principal) -> list[AccountRow]:
    _may_manage(p)
    return list_accounts(session)


def account_for_admin(session: Session, p: Principal, username: str) -> AccountRow:
    """One account as the list shows it; NotFound if there is none by that name."""
    _may_manage(p)
    (row,) = list_accounts(session, find(session, username).username)
    return row
