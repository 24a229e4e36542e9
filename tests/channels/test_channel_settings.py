"""Each channel declares and reads its own settings: config.toml's table and its variables.

The service builds every channel the same way (`ChannelSet`), from what the channel itself
reads out of config.toml and the environment, so the channel alone decides its defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from followup.channels import (
    CHANNEL_KINDS,
    LookupNotSupported,
    OutgoingMessage,
    build_channel,
    channel_class,
)
from followup.config import Config
from followup.dispatch.sender import ChannelSet

SITE = {"BG": {"name": "Centre for Social Work Belgrade", "timezone": "Europe/Belgrade"}}
SMTP = {"FOLLOWUP_SMTP_HOST": "smtp.example.org", "FOLLOWUP_SMTP_FROM": "followup@example.org"}


def channels_for(environ: dict[str, str], **tables: object) -> ChannelSet:
    config = Config.model_validate({"sites": SITE, **tables})
    return ChannelSet(SimpleNamespace(config=config), environ=environ)


def test_ssl_from_the_environment_alone_picks_port_465_in_the_service_as_in_the_channel():
    channels = channels_for({**SMTP, "FOLLOWUP_SMTP_SSL": "1"})
    email = channels.channels["email"]
    assert (email.ssl, email.port) == (True, 465)
    assert email.port == build_channel("email", environ={**SMTP, "FOLLOWUP_SMTP_SSL": "1"}).port


def test_starttls_in_the_config_table_picks_port_587():
    channels = channels_for({}, channels={"email": {"host": "mail.example.org", "starttls": True}})
    email = channels.channels["email"]
    assert (email.host, email.port, email.sender) == ("mail.example.org", 587, "followup@localhost")


def test_an_empty_email_table_means_the_local_mail_server_on_port_25():
    email = channels_for({}, channels={"email": {}}).channels["email"]
    assert (email.host, email.port, email.sender) == ("localhost", 25, "followup@localhost")


def test_the_config_port_wins_over_the_tls_default_and_the_environment_over_both():
    tables = {"channels": {"email": {"port": 2465, "starttls": True}}}
    assert channels_for({}, **tables).channels["email"].port == 2465
    environ = {"FOLLOWUP_SMTP_PORT": "2525"}
    assert channels_for(environ, **tables).channels["email"].port == 2525


def test_without_settings_only_the_console_is_set_up_and_the_others_say_why():
    channels = channels_for({})
    assert channels.available == {"console"}
    assert set(channels.missing) == {"email", "sms"}
    assert channels.describe() == "console"


def test_the_sms_table_and_the_web_address_reach_the_sms_channel():
    tables = {
        "channels": {"sms": {"sender": "+15550001111", "api_base": "http://127.0.0.1:9"}},
        "web": {"base_url": "https://followup.example.org/"},
    }
    environ = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}
    sms = channels_for(environ, **tables).channels["sms"]
    assert (sms.from_number, sms.api_base, sms.status_callback) == (
        "+15550001111",
        "http://127.0.0.1:9",
        "https://followup.example.org/twilio/status",
    )
    assert channels_for(environ, **tables).describe() == "sms via http://127.0.0.1:9, console"


@pytest.mark.parametrize("kind", ["email", "sms"])
def test_every_key_of_a_channel_table_in_config_toml_is_a_setting_the_channel_declares(kind):
    table = Config.model_fields["channels"].annotation.model_fields[kind].annotation
    full = {name: _sample(name) for name in table.model_fields}
    config = Config.model_validate({"sites": SITE, "channels": {kind: full}})
    settings = channel_class(kind).Settings.from_config(config, {})
    assert settings is not None
    assert set(settings) <= channel_class(kind).Settings.KEYS


def _sample(name: str) -> object:
    return {"port": 2525, "starttls": False}.get(name, "x@example.org")


@pytest.mark.parametrize("kind", ["console", "email"])
def test_a_channel_that_cannot_look_up_earlier_sends_says_so(kind):
    channel = (
        build_channel("console") if kind == "console" else build_channel("email", environ=SMTP)
    )
    message = OutgoingMessage(key="k1", to="a@example.org", subject="s", text="t")
    with pytest.raises(LookupNotSupported):
        channel.find_sent(message, datetime(2026, 3, 1, tzinfo=UTC))


def test_every_channel_declares_its_settings_and_its_variables():
    for kind in CHANNEL_KINDS:
        settings = channel_class(kind).Settings
        assert settings.kind == kind
        assert set(settings.SECRETS) <= set(settings.ENVIRONMENT)
    assert "FOLLOWUP_SMTP_SSL" in channel_class("email").Settings.ENVIRONMENT
