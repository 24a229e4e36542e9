"""Whose address the login throttle counts, through the server `followup serve` runs.

Served by uvicorn with the settings of `serve` (followup.service.http_config), because
the hole was there: uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import sqlalchemy as sa
import uvicorn

from followup.models import Audit
from followup.service import http_config
from tests.web.conftest import PASSWORD, Team, build_team

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LIMIT = 3  # web.login_ip_max_failures in these tests


@contextmanager
def served(make_deployment, extra: str = "") -> Iterator[tuple[Team, httpx.Client]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    team = build_team(
        make_deployment(
            extra=f"[web]\nport = {port}\nlogin_ip_max_failures = {LIMIT}\n{extra}",
        )
    )
    server = uvicorn.Server(http_config(team.ctx))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield team, client
    finally:
        server.should_exit = True
        thread.join(10)


def log_in(client: httpx.Client, username: str, password: str, forwarded_for: str) -> int:
    client.cookies.clear()
    token = _CSRF.search(client.get("/login").text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": ""},
        headers={"X-Forwarded-For": forwarded_for},
    ).status_code


def failed_addresses(team: Team) -> list[str]:
    import json

    with team.session() as session:
        details = session.execute(
            sa.select(Audit.detail).where(Audit.action == "login_failed").order_by(Audit.id)
        ).scalars()
        return [json.loads(detail)["ip"] for detail in details]


def test_a_local_client_cannot_dodge_the_address_throttle_by_rotating_x_forwarded_for(
    make_deployment,
):
    with served(make_deployment) as (team, client):
        for n in range(LIMIT):
            assert log_in(client, f"guess{n}", "guess guess guess", f"203.0.113.{n}") == 401
        # A new address in the header, and even the right password: the same client.
        assert log_in(client, "facilitator", PASSWORD, "203.0.113.99") == 429
    assert failed_addresses(team) == ["127.0.0.1"] * LIMIT


def test_a_trusted_proxys_x_forwarded_for_names_the_client_it_passes_on(make_deployment):
    with served(make_deployment, 'trusted_proxies = ["127.0.0.1"]\n') as (team, client):
        for n in range(LIMIT):
            assert log_in(client, f"guess{n}", "guess guess guess", "203.0.113.7") == 401
        assert log_in(client, "facilitator", PASSWORD, "203.0.113.7") == 429
        # What a client puts in front of the proxy's own entry is not believed.
        assert log_in(client, "facilitator", PASSWORD, "198.51.100.1, 203.0.113.7") == 429
        # Another client behind the same proxy is not held back by the first one's guesses.
        assert log_in(client, "facilitator", PASSWORD, "203.0.113.8") == 303
    assert failed_addresses(team) == ["203.0.113.7"] * LIMIT
