"""One write transaction at a time per request thread, and never a page rendered inside one.

On SQLite every transaction takes the database's write lock at BEGIN (followup.db), so a
request that opens a second transaction while its first is open waits for itself until
the busy timeout (30 s), and every other request waits behind it.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from followup.db import NestedTransaction, transaction
from followup.models import UserAccount

# Generous for a shared two-core machine; a request waiting for the write lock takes 30 s.
PAGE_WITHIN_SECONDS = 1.0


def invite_path(team, username: str = "newcomer") -> str:
    from followup.web.accounts import add_account, issue_invite

    with team.session() as session:
        account = add_account(
            session, team.ctx, username=username, staff_id="F1", roles=["facilitator"]
        )
        link = issue_invite(session, team.ctx, account)
    return link.split("127.0.0.1:8000", 1)[1]


def test_a_bogus_invite_answers_404_at_once_and_pages_are_served_meanwhile(team):
    if team.ctx.engine.dialect.name != "sqlite":
        pytest.skip("the write lock taken at BEGIN is SQLite's")
    facilitator = team.browser("facilitator")
    attackers = [team.browser() for _ in range(3)]
    tokens = [attacker.csrf() for attacker in attackers]
    answers: list[int | str] = []
    stop = threading.Event()

    def post_bogus_invites(attacker, token: str) -> None:
        while not stop.is_set():
            try:
                response = attacker.post(
                    "/invite/not-a-token",
                    {
                        "password": "a long password 1",
                        "confirm": "a long password 1",
                        "csrf_token": token,
                    },
                    csrf=False,
                )
                answers.append(response.status_code)
            except Exception as failed:  # noqa: BLE001  (reported by the assertion below)
                answers.append(repr(failed))
                return

    threads = [
        threading.Thread(target=post_bogus_invites, args=pair, daemon=True)
        for pair in zip(attackers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 5
        while len(answers) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # the attack is under way before the page is asked for
        slowest = 0.0
        for _ in range(5):
            started = time.monotonic()
            page = facilitator.get("/followups")
            slowest = max(slowest, time.monotonic() - started)
            assert page.status_code == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert slowest < PAGE_WITHIN_SECONDS, f"a signed-in page took {slowest:.1f} s"
    assert answers and set(answers) == {404}, answers[:5]


def test_a_used_invite_answers_404_and_leaves_the_password_set(team):
    path = invite_path(team)
    visitor = team.browser()
    chosen = {"password": "my own long password", "confirm": "my own long password"}
    assert visitor.post(path, chosen).headers["location"] == "/login?welcome=1"
    again = team.browser().post(
        path, {"password": "another long password", "confirm": "another long password"}
    )
    assert again.status_code == 404
    assert team.browser().login("newcomer", "my own long password").status_code == 303


def test_an_invite_with_a_mistake_in_the_form_answers_422_and_still_works_afterwards(team):
    path = invite_path(team)
    visitor = team.browser()
    response = visitor.post(path, {"password": "my own long password", "confirm": "typo"})
    assert response.status_code == 422
    assert (
        visitor.post(path, {"password": "my own long password", "confirm": "my own long password"})
        .headers["location"]
        .startswith("/login")
    )


def test_a_second_transaction_on_the_same_thread_is_refused_at_once(team):
    """The general guard: what would wait 30 s for its own lock fails at once, naming why.
    Every web test runs under it, so a route that nests transactions fails its tests."""
    if team.ctx.engine.dialect.name != "sqlite":
        pytest.skip("the guard is for SQLite, where a nested transaction waits for itself")
    engine = team.ctx.engine
    started = time.monotonic()
    with pytest.raises(NestedTransaction, match="already open on this thread"):  # noqa: SIM117
        with transaction(engine) as outer:
            outer.execute(sa.select(UserAccount.id)).first()
            with transaction(engine) as inner:
                inner.execute(sa.select(UserAccount.id)).first()
    assert time.monotonic() - started < PAGE_WITHIN_SECONDS
    # One after the other is fine.
    for _ in range(2):
        with transaction(engine) as session:
            session.execute(sa.select(UserAccount.id)).first()
