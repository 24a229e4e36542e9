"""Every route of the app, for every role: exactly the expected people get through.

The matrix below lists each route (method and path as the app declares it) with sample
records and the roles allowed; everyone else gets 403, or 404 where the path names a
record (`hidden`), so a refusal never tells anyone a record exists. A route added to the
app without a row here fails `test_the_matrix_covers_every_route_of_the_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from starlette.routing import Mount

from followup.models import UserAccount

ROLES = (
    "facilitator",
    "partner_support",
    "supervisor",
    "supervisor_ps",
    "evaluator",
    "manager",
    "admin",
)
CASEWORK = {"facilitator", "partner_support", "supervisor", "supervisor_ps", "admin"}
HER_SIDE = {"partner_support", "supervisor_ps", "admin"}
EVERYONE = set(ROLES)
ENROLS = {"facilitator", "supervisor", "supervisor_ps", "admin"}  # and record his status


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as declared by the route
    sample: dict = field(default_factory=dict)  # path parameter -> key into the samples
    allowed: frozenset = frozenset()
    forbidden: frozenset = frozenset()  # may see the record, may not do this: 403
    hidden: bool = False  # everyone else: 404 (else 403)
    data: dict = field(default_factory=dict)  # a form that changes nothing or little


def row(method, path, allowed, *, sample=None, forbidden=(), hidden=False, data=None) -> Row:
    return Row(
        method, path, sample or {}, frozenset(allowed), frozenset(forbidden), hidden, data or {}
    )


MATRIX = [
    row("GET", "/", EVERYONE),
    row("GET", "/account", EVERYONE),
    row("POST", "/account/language", EVERYONE, data={"language": "xx"}),
    row("POST", "/account/password", EVERYONE),
    row("POST", "/account/calendar", EVERYONE),
    row("POST", "/account/calendar/revoke", EVERYONE),
    row("GET", "/followups", CASEWORK),
    row("GET", "/followups/{followup_id}", CASEWORK, sample={"followup_id": "his"}, hidden=True),
    row(
        "GET",
        "/followups/{followup_id}",
        HER_SIDE | {"supervisor"},
        sample={"followup_id": "hers"},
        hidden=True,
    ),
    row(
        "GET", "/followups/{followup_id}", {"admin"}, sample={"followup_id": "ns_his"}, hidden=True
    ),
    row(
        "POST",
        "/followups/{followup_id}",
        {"facilitator", "admin"},
        sample={"followup_id": "his"},
        forbidden={"partner_support", "supervisor", "supervisor_ps"},
        hidden=True,
    ),
    row(
        "POST",
        "/followups/{followup_id}",
        HER_SIDE,
        sample={"followup_id": "hers"},
        forbidden={"supervisor"},
        hidden=True,
    ),
    row(
        "POST", "/followups/{followup_id}", {"admin"}, sample={"followup_id": "ns_his"}, hidden=True
    ),
    row(
        "POST",
        "/followups/{followup_id}/missed",
        {"facilitator", "admin"},
        sample={"followup_id": "his_later"},
        forbidden={"partner_support", "supervisor", "supervisor_ps"},
        hidden=True,
    ),
    row(
        "POST",
        "/followups/{followup_id}/missed",
        HER_SIDE,
        sample={"followup_id": "hers_later"},
        forbidden={"supervisor"},
        hidden=True,
    ),
    # A contact attempt: his or hers by who may record the follow-up. The samples' windows
    # have not opened, so an allowed attempt is refused as a form problem (422): no change.
    row(
        "POST",
        "/followups/{followup_id}/attempt",
        {"facilitator", "admin"},
        sample={"followup_id": "his_later"},
        forbidden={"partner_support", "supervisor", "supervisor_ps"},
        hidden=True,
        data={"outcome": "no_answer", "channel": "phone", "back": "/followups"},
    ),
    row(
        "POST",
        "/followups/{followup_id}/attempt",
        HER_SIDE,
        sample={"followup_id": "hers_later"},
        forbidden={"supervisor"},
        hidden=True,
        data={"outcome": "no_answer", "channel": "phone", "from": "followup"},
    ),
    row(
        "POST",
        "/followups/{followup_id}/reveal",
        HER_SIDE,
        sample={"followup_id": "hers"},
        forbidden={"supervisor"},
        hidden=True,
    ),
    row(
        "POST",
        "/followups/{followup_id}/plan-confirmed",
        HER_SIDE,
        sample={"followup_id": "hers"},
        forbidden={"supervisor"},
        hidden=True,
    ),
    row(
        "POST",
        "/followups/mark-missed",
        CASEWORK,
        data={"reason": "unreachable", "followup_id": "0"},
    ),
    row("GET", "/caseload", CASEWORK),
    row("GET", "/search", CASEWORK),
    row("GET", "/participants/{case_id:path}", CASEWORK, sample={"case_id": "BG-1"}, hidden=True),
    row("GET", "/participants/{case_id:path}", {"admin"}, sample={"case_id": "NS-1"}, hidden=True),
    row("GET", "/partners/{partner_id:path}", HER_SIDE, sample={"partner_id": "P-1"}, hidden=True),
    row(
        "GET", "/partners/{partner_id:path}", {"admin"}, sample={"partner_id": "P-NS1"}, hidden=True
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/reveal",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/reveal",
        {"admin"},
        sample={"partner_id": "P-NS1"},
        hidden=True,
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/consent",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/do-not-contact",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/plan",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
        data={"channel_phone": "yes", "safe_times": "10:00-12:00"},
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/plan/confirm",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
    ),
    # Casework forms (routes/casework.py): data {} is refused by the form, changing nothing.
    row("GET", "/enrol", ENROLS),
    row("POST", "/enrol", ENROLS),
    row(
        "GET",
        "/participants/{case_id:path}/partners/new",
        HER_SIDE,
        sample={"case_id": "BG-1"},
        hidden=True,
    ),
    row(
        "POST",
        "/participants/{case_id:path}/partners/new",
        HER_SIDE,
        sample={"case_id": "BG-1"},
        hidden=True,
    ),
    row(
        "GET",
        "/participants/{case_id:path}/partners/new",
        {"admin"},
        sample={"case_id": "NS-1"},
        hidden=True,
    ),
    row(
        "GET",
        "/partners/{partner_id:path}/edit",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
    ),
    row(
        "POST",
        "/partners/{partner_id:path}/edit",
        HER_SIDE,
        sample={"partner_id": "P-1"},
        hidden=True,
    ),
    row(
        "GET",
        "/partners/{partner_id:path}/edit",
        {"admin"},
        sample={"partner_id": "P-NS1"},
        hidden=True,
    ),
    *(
        row(
            method,
            f"/participants/{{case_id:path}}/{form}",
            allowed,
            sample={"case_id": "BG-1"},
            forbidden=CASEWORK - allowed,
            hidden=True,
        )
        for form, allowed in (
            ("status", ENROLS),
            ("recidivism", CASEWORK),
            ("check", CASEWORK),
        )
        for method in ("GET", "POST")
    ),
    row(
        "GET",
        "/participants/{case_id:path}/status",
        {"admin"},
        sample={"case_id": "NS-1"},
        hidden=True,
    ),
    row("GET", "/alerts", HER_SIDE | {"supervisor"}),
    row(
        "GET",
        "/alerts/{alert_id}",
        HER_SIDE | {"supervisor"},
        sample={"alert_id": "bg_alert"},
        hidden=True,
    ),
    row("GET", "/alerts/{alert_id}", {"admin"}, sample={"alert_id": "ns_alert"}, hidden=True),
    row(
        "POST",
        "/alerts/{alert_id}/acknowledge",
        HER_SIDE | {"supervisor"},
        sample={"alert_id": "bg_alert"},
        hidden=True,
        data={"action": "contacted_her"},
    ),
    row(
        "POST",
        "/alerts/{alert_id}/acknowledge",
        {"admin"},
        sample={"alert_id": "ns_alert"},
        hidden=True,
        data={"action": "contacted_her"},
    ),
    # Corrections: who may see a record may open its history; who may record it may
    # correct or void it (an empty form: 422, nothing changes).
    *(
        row(method, path, allowed, sample=sample, forbidden=forbidden, hidden=True)
        for path in (
            "/records/{kind}/{record_id}",
            "/records/{kind}/{record_id}/correct",
            "/records/{kind}/{record_id}/void",
        )
        for method, allowed, forbidden, sample in (
            (
                "POST" if path.endswith(("correct", "void")) else "GET",
                *(
                    ({"facilitator", "admin"}, {"partner_support", "supervisor", "supervisor_ps"})
                    if path.endswith(("correct", "void"))
                    else (CASEWORK, set())
                ),
                {"kind": "interview", "record_id": "his_interview"},
            ),
            (
                "POST" if path.endswith(("correct", "void")) else "GET",
                HER_SIDE,
                set(),
                {"kind": "interview", "record_id": "her_interview"},
            ),
            (
                "POST" if path.endswith(("correct", "void")) else "GET",
                {"admin"},
                set(),
                {"kind": "interview", "record_id": "ns_interview"},
            ),
            (
                "POST" if path.endswith(("correct", "void")) else "GET",
                CASEWORK,
                set(),
                {"kind": "event", "record_id": "bg_event"},
            ),
            (
                "POST" if path.endswith(("correct", "void")) else "GET",
                {"admin"},
                set(),
                {"kind": "event", "record_id": "ns_event"},
            ),
        )
    ),
    row("GET", "/outcomes", {"evaluator", "admin"}),
    row("GET", "/outcomes/report.{fmt}", {"evaluator", "admin"}, sample={"fmt": "csv"}),
    row("GET", "/schedules", {"manager", "admin"}),
    row("POST", "/schedules/apply", {"manager", "admin"}, data={"fingerprint": "stale"}),
    row("GET", "/audit", {"admin"}),
    row("GET", "/accounts", {"admin"}),
    row("POST", "/accounts/staff", {"admin"}, data={"staff_id": "X1"}),  # refused: no site
    row("POST", "/accounts/invite", {"admin"}),  # refused: nothing filled in
    row("GET", "/accounts/{username}", {"admin"}, sample={"username": "account"}),
    row(
        "POST",
        "/accounts/{username}/access",
        {"admin"},
        sample={"username": "account"},
        data={"role.facilitator": "1"},
    ),
    row("POST", "/accounts/{username}/reset", {"admin"}, sample={"username": "account"}),
    row("POST", "/accounts/{username}/deactivate", {"admin"}, sample={"username": "account"}),
    row("POST", "/accounts/{username}/activate", {"admin"}, sample={"username": "account"}),
    row("POST", "/logout", EVERYONE),  # last: it ends the session
]

# Routes with their own credential or none: the same answer whoever asks.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/invite/{token}"),
    ("POST", "/invite/{token}"),
    ("GET", "/calendar/{token}.ics"),
    ("GET", "/healthz"),
    ("POST", "/twilio/status"),
    ("MOUNT", "/static"),
}


def declared_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route, walking into included routers (FastAPI keeps an
    included router as one entry of app.routes) and mounts."""
    found = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                found.add(("MOUNT", prefix + route.path))
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + (route.include_context.prefix or ""))
            else:
                for method in route.methods - {"HEAD"}:
                    found.add((method, prefix + route.path))

    walk(app.routes, "")
    return found


def test_the_matrix_covers_every_route_of_the_app(team):
    declared = declared_routes(team.app)
    listed = {(r.method, r.path) for r in MATRIX} | PUBLIC
    assert declared - listed == set(), "routes without a row in the authorisation matrix"
    assert listed - declared == set(), "matrix rows for routes the app does not have"


def url(entry: Row, samples: dict) -> str:
    path = entry.path
    for name, key in entry.sample.items():
        path = path.replace("{" + name + ":path}", str(samples[key])).replace(
            "{" + name + "}", str(samples[key])
        )
    return path


def send(browser, entry: Row, samples: dict):
    if entry.method == "GET":
        return browser.get(url(entry, samples))
    return browser.post(url(entry, samples), dict(entry.data))


def sent_to_login(response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_the_matrix_allows(team, samples, role):
    browser = team.browser(role)
    wrong = []
    for entry in MATRIX:
        response = send(browser, entry, samples)
        status = response.status_code
        if role in entry.allowed:
            ok = status not in (403, 404) and not sent_to_login(response) and status < 500
            if entry.path == "/logout":
                ok = status == 303
            elif entry.method == "GET" and entry.path != "/":
                ok = ok and status == 200
        elif role in entry.forbidden:
            ok = status == 403
        else:
            ok = status == (404 if entry.hidden else 403)
        if not ok:
            wrong.append(f"{entry.method} {url(entry, samples)} -> {status}")
    assert wrong == [], f"{role}: " + "; ".join(wrong)


def test_someone_not_logged_in_is_sent_to_the_login_page_from_every_protected_route(team, samples):
    browser = team.browser()
    for entry in MATRIX:
        response = (
            send(browser, entry, samples)
            if entry.method == "GET"
            else browser.post(url(entry, samples), dict(entry.data), csrf=False)
        )
        assert sent_to_login(response), f"{entry.method} {entry.path} -> {response.status_code}"


def test_the_public_routes_answer_the_same_whoever_asks(team):
    from followup.operations.accounts import add_account, issue_invite
    from followup.tokens import digest, new_token

    token = new_token()
    with team.session() as session:
        invited = add_account(
            session, team.ctx, username="newcomer", staff_id="F1", roles=["facilitator"]
        )
        link = issue_invite(session, team.ctx, invited)
        session.get(UserAccount, invited.id).calendar_token_hash = digest(token)
    invite_path = link.split("127.0.0.1:8000", 1)[1]
    for who in (None, *ROLES):
        browser = team.browser(who)
        assert browser.get("/healthz").status_code == 200
        assert browser.get("/static/app.css").status_code == 200
        assert browser.post("/twilio/status", {"MessageSid": "SM1"}, csrf=False).status_code == 403
        # The calendar belongs to an invited account without a password yet: not served.
        assert browser.get(f"/calendar/{token}.ics").status_code == 404
        assert browser.get("/calendar/not-a-token.ics").status_code == 404
        assert browser.get(invite_path).status_code == 200
        assert browser.get("/invite/not-a-token").status_code == 404
        assert (
            browser.post(invite_path, {"password": "short", "confirm": "short"}).status_code == 422
        )
        login = browser.get("/login")
        assert login.status_code == (200 if who is None else 303)
        wrong = {"username": f"nobody-{who}", "password": "wrong password!"}
        assert browser.post("/login", wrong).status_code == 401
