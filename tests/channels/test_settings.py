"""Channel settings: absent means not set up; given but wrong stops the start.

A channel none of whose variables is set is simply not used (its messages go by the next
channel). Once one is set the channel is meant to be used, so a value that does not parse
or a missing companion setting stops `serve`, `worker` and `dispatch` with one line,
instead of quietly sending those staff's messages to the console.
"""

from __future__ import annotations

import socket

import pytest

from followup.channels import build_channel
from followup.channels._settings import NotSetUp


def test_a_channel_with_no_variables_set_is_not_set_up() -> None:
    with pytest.raises(NotSetUp, match="FOLLOWUP_SMTP_HOST is not set"):
        build_channel("email", None, environ={})
    with pytest.raises(NotSetUp, match="TWILIO_ACCOUNT_SID is not set"):
        build_channel("sms", {"status_callback": "http://x/twilio/status"}, environ={})


def test_a_channel_with_some_variables_set_and_a_required_one_missing_is_a_mistake() -> None:
    with pytest.raises(ValueError) as caught:
        build_channel("sms", None, environ={"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_FROM": "X"})
    assert not isinstance(caught.value, NotSetUp)
    assert str(caught.value) == (
        "TWILIO_AUTH_TOKEN is not set: the sms channel needs the Twilio auth token. Set "
        "TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE) in the environment. "
        "(TWILIO_ACCOUNT_SID, TWILIO_FROM are set)"
    )
    with pytest.raises(ValueError) as caught:
        build_channel("email", None, environ={"FOLLOWUP_SMTP_PORT": "587"})
    assert not isinstance(caught.value, NotSetUp)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(make_deployment):
    return make_deployment(f'\n[web]\nhost = "127.0.0.1"\nport = {free_port()}\n')


BAD_PORT = (
    "Error: the email channel's settings are wrong: environment variable FOLLOWUP_SMTP_PORT "
    "must be a whole number, got 'abc'. Hint: correct or unset them; nothing is sent until "
    "they are right\n"
)


@pytest.mark.parametrize(
    "command", [("dispatch", "--once"), ("worker",), ("serve",), ("serve", "--no-scheduler")]
)
def test_a_channel_setting_that_does_not_parse_stops_the_start_with_one_line(
    served, monkeypatch, command
):
    monkeypatch.setenv("FOLLOWUP_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("FOLLOWUP_SMTP_FROM", "followup@example.org")
    monkeypatch.setenv("FOLLOWUP_SMTP_PORT", "abc")
    result = served.run(*command)
    assert (result.exit_code, result.err, result.out) == (1, BAD_PORT, "")


def test_a_stray_setting_without_its_server_stops_dispatch_too(served, monkeypatch):
    monkeypatch.setenv("FOLLOWUP_SMTP_PORT", "abc")
    result = served.run("dispatch", "--once")
    assert result.exit_code == 1
    assert result.err == BAD_PORT


def test_half_set_twilio_credentials_stop_dispatch_instead_of_using_the_console(
    served, monkeypatch
):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    result = served.run("dispatch", "--once")
    assert result.exit_code == 1
    assert result.err.startswith(
        "Error: the sms channel's settings are wrong: TWILIO_AUTH_TOKEN is not set"
    )
    assert result.err.count("\n") == 1


def test_with_no_channel_settings_dispatch_runs_on_the_console(served):
    result = served.run("dispatch", "--once")
    assert result.exit_code == 0, result.err
