"""One write transaction at a time per request thread, and never a page rendered inside one.

On SQLite every transaction takes the database's write lock at BEGIN (followup.db), so a
request that opens a second transaction while its first is open waits for itself until
the busy timeout (30 s), and every other request waits behind it.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from followup.db import NestedTransaction, transaction
from followup.models import UserAccount

# Generous for a shared two-core machine; a request waiting for the write lock takes 30 s.
PAGE_WITHIN_SECONDS = 1.0


def invite_path(team, username: str = "newcomer") -> str:
    from followup.operations.accounts import add_account, issue_invite

    with team.session() as session:
        account = add_account(
            session, team.ctx, username=username, staff_id="F1", roles=["facilitator"]
        )
        link = issue_invite(session, team.ctx, account)
    return link.split("127.0.0.1:8000", 1)[1]


def test_bogus_and_used_invites_answer_404_at_once_and_pages_are_served_meanwhile(team):
    if team.ctx.engine.dialect.name != "sqlite":
        pytest.skip("the write lock taken at BEGIN is SQLite's")
    used = invite_path(team)
    chosen = {"password": "my own long password", "confirm": "my own long password"}
    assert team.browser().post(used, chosen).status_code == 303
    facilitator = team.browser("facilitator")
    attacks = [(team.browser(), path) for path in ("/invite/not-a-token", used, "/invite/x")]
    tokens = [attacker.csrf() for attacker, _path in attacks]
    answers: list[int | str] = []
    stop = threading.Event()

    def post_bogus_invites(attacker, path: str, token: str) -> None:
        form = {"password": "a long password 1", "confirm": "a long password 1"}
        while not stop.is_set():
            try:
                response = attacker.post(path, {**form, "csrf_token": token}, csrf=False)
                answers.append(response.status_code)
            except Exception as failed:  # noqa: BLE001  (reported by the assertion below)
                answers.append(repr(failed))
                return

    threads = [
        threading.Thread(target=post_bogus_invites, args=(attacker, path, token), daemon=True)
        for (attacker, path), token in zip(attacks, tokens, strict=True)
    ]
    gc.collect()  # a full collection of the test run's garbage is not what is measured here
    for thread in threads:
        thread.start()
    pages = []
    try:
        deadline = time.monotonic() + 5
        while len(answers) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.01)  # the attack is under way before the page is asked for
        for _ in range(3):
            started = time.monotonic()
            status = facilitator.get("/followups").status_code
            pages.append((status, round(time.monotonic() - started, 2)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    seen = f"pages (status, seconds): {pages}; invite answers: {Counter(answers)}"
    assert all(status == 200 and took < PAGE_WITHIN_SECONDS for status, took in pages), seen
    assert answers and set(answers) == {404}, seen


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
