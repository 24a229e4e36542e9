"""Twilio status callbacks: believed only when signed, and they move a message forward only."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from followup.clock import RunningFrom
from followup.http import create_app
from followup.models import Staff
from tests.dispatch.conftest import local, outbox_rows
from tests.support.fake_twilio import FakeTwilio

TOKEN = "fake-twilio-auth-token"
SMS_STAFF = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,sms,sr-Latn
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,sms,
SV1,BG,Vesna Ilić,supervisor;partner_support,,vesna@example.org,email,
F2,NS,Ivan Ilić,facilitator,,ivan@example.org,email,en
"""


@pytest.fixture
def port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sim_extra(port) -> str:
    return f'[web]\nport = {port}\nbase_url = "http://127.0.0.1:{port}"\n'


@pytest.fixture
def team(cohort, monkeypatch):
    assert cohort.run("import", "staff", str(cohort.csv("sms.csv", SMS_STAFF))).exit_code == 0
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    return cohort


@pytest.fixture
def web(team, port):
    """The app `followup serve` runs, on uvicorn on loopback."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(team.ctx), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def signed(url: str, params: dict, token: str = TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def test_a_callback_without_a_valid_signature_is_refused_and_changes_nothing(team, port):
    url = f"http://127.0.0.1:{port}/twilio/status"
    params = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30005"}
    client = TestClient(create_app(team.ctx))
    assert client.post("/twilio/status", data=params).status_code == 403
    assert (
        client.post("/twilio/status", data=params, headers=signed(url, params, "wrong")).status_code
        == 403
    )
    tampered = signed(url, {**params, "MessageStatus": "delivered"})
    assert client.post("/twilio/status", data=params, headers=tampered).status_code == 403
    queued = {"MessageSid": "SM1", "MessageStatus": "queued"}  # signed properly: accepted
    assert (
        client.post("/twilio/status", data=queued, headers=signed(url, queued)).status_code == 204
    )


def test_delivery_reports_move_messages_forward_and_a_failed_one_goes_again_by_email(
    team, web, driver_for, smtp_server
):
    with FakeTwilio(status_callbacks=True) as fake:
        fake.fail_delivery("+381642222222", code=30005)  # PS1's number does not exist
        driver = driver_for(team, environ={**fake.env(), **smtp_server.env()})
        # The service's clock, which the callbacks read too: a Monday morning, whatever
        # the real time (a night run once held the fallback e-mails in quiet hours).
        team.ctx.clock = RunningFrom(local("2026-03-23 08:00"))
        driver.at(team.ctx.now())
        sent = outbox_rows(team, channel="sms")
        fake.wait_for_callbacks(len(sent))
        assert all(c.http_status == 204 for c in fake.callbacks)
        assert all(m.status_callback == f"{web}/twilio/status" for m in fake.messages)
        # A late or repeated report changes nothing.
        url = f"{web}/twilio/status"
        f1 = next(row for row, staff in sent if staff == "F1")
        late = {"MessageSid": f1.provider_id, "MessageStatus": "sent"}
        assert (
            TestClient(create_app(team.ctx))
            .post("/twilio/status", data=late, headers=signed(url, late))
            .status_code
            == 204
        )

    statuses = {
        (staff, row.kind): (row.status, row.last_error)
        for row, staff in outbox_rows(team, channel="sms")
    }
    assert statuses[("F1", "reminder")] == ("delivered", None)
    assert statuses[("PS1", "reminder")] == (
        "failed",
        "sms: Unknown number (does not exist) [30005]",
    )
    driver.sender.send_due(team.ctx.clock)  # the copies the callbacks queued, on its clock
    # Each message to PS1 reaches her by e-mail exactly once: re-sent after its failure
    # report, or sent by e-mail straight away if the report had already flagged her number.
    ps1 = [row for row, staff in outbox_rows(team) if staff == "PS1"]
    originals = {row.key for row in ps1 if not row.key.endswith(":after-sms")}
    emailed = [row.key.removesuffix(":after-sms") for row in ps1 if row.status == "sent"]
    assert sorted(emailed) == sorted(originals) and len(originals) == 2
    assert all(row.channel == "email" for row in ps1 if row.status == "sent")
    assert sum(1 for m in smtp_server.messages if "ana@example.org" in m["To"]) == 2
    with team.session() as session:
        problem = session.execute(
            sa.select(Staff.channel_problem).where(Staff.staff_id == "PS1")
        ).scalar_one()
    assert problem.startswith("sms: Unknown number (does not exist)")
    to_sv1 = [m for m in smtp_server.messages if "vesna@example.org" in m["To"]]
    # One hourly delivery-problem digest for the supervisor, naming whom it concerns.
    assert [m["Subject"] for m in to_sv1] == ["Problemi s isporukom: poruke za kolege (1)"]
    assert "Ana Jovanović (PS1)" in to_sv1[0].get_body(("plain",)).get_content()
