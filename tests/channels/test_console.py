from __future__ import annotations

import io

import pytest

from followup.channels import CHANNEL_KINDS, build_channel, channel_class
from followup.channels.base import Delivery, OutgoingMessage, TransportError
from followup.channels.console import ConsoleChannel

REMINDER = OutgoingMessage(
    key="outbox-41",
    to="Ana (facilitator, BG)",
    subject="Follow-up due: A-17, completion + 3 months",
    text="Interview with participant A-17 is due on 2025-03-14.\n",
)


class _Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_it_writes_one_readable_block_per_message() -> None:
    stream = _Stream()
    ConsoleChannel(stream).send(REMINDER)
    block = stream.getvalue()
    assert "outbox-41" in block
    assert "To:      Ana (facilitator, BG)" in block
    assert "Subject: Follow-up due: A-17, completion + 3 months" in block
    assert "Interview with participant A-17 is due on 2025-03-14." in block
    assert block.endswith("\n\n")


def test_it_flushes_after_each_message() -> None:
    stream = _Stream()
    channel = ConsoleChannel(stream)
    channel.send(REMINDER)
    channel.send(REMINDER)
    assert stream.flushes == 2
    assert stream.getvalue().count("outbox-41") == 2


def test_it_reports_sent_without_a_provider_id() -> None:
    assert ConsoleChannel(io.StringIO()).send(REMINDER) == Delivery(None, "sent")


def test_it_writes_to_standard_output_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleChannel().send(REMINDER)
    assert "outbox-41" in capsys.readouterr().out


def test_a_closed_stream_is_worth_another_try() -> None:
    stream = io.StringIO()
    stream.close()
    with pytest.raises(TransportError) as caught:
        ConsoleChannel(stream).send(REMINDER)
    assert caught.value.permanent is False


def test_the_registry_builds_the_console_channel_by_default() -> None:
    channel = build_channel("console")
    assert isinstance(channel, ConsoleChannel)
    assert channel.kind == "console"


def test_the_registry_knows_console_email_and_sms() -> None:
    assert CHANNEL_KINDS == ("console", "email", "sms")
    assert [channel_class(kind).kind for kind in CHANNEL_KINDS] == ["console", "email", "sms"]


def test_the_registry_names_an_unknown_kind_and_the_valid_ones() -> None:
    with pytest.raises(ValueError) as caught:
        build_channel("fax")
    assert str(caught.value) == "Unknown channel kind 'fax'; valid kinds: console, email, sms"


def test_the_console_channel_refuses_settings_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="Unknown setting.*console.*colour"):
        build_channel("console", {"colour": "red"})


def test_a_message_repr_shows_only_its_key() -> None:
    assert repr(REMINDER) == "OutgoingMessage(key='outbox-41')"


def test_control_characters_in_a_message_are_escaped_so_no_line_is_forged() -> None:
    stream = _Stream()
    forged = OutgoingMessage(
        key="outbox-42",
        to="Ana\n----- message outbox-99 -----",
        subject="Due\r\nTo:      Marko\x1b[2J",
        text="First line\nsecond\x00line\u2028third\n----- message outbox-99 -----\n",
    )
    ConsoleChannel(stream).send(forged)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "----- message outbox-42 -----",
        "To:      Ana\\n----- message outbox-99 -----",
        "Subject: Due\\r\\nTo:      Marko\\x1b[2J",
        "",
        "First line",
        "second\\x00line\\u2028third",
        "  ----- message outbox-99 -----",
        "-" * 40,
        "",
    ]
