from __future__ import annotations

from pathlib import Path

import pytest

from followup.channels import build_channel
from followup.channels.base import OutgoingMessage, TransportError
from followup.channels.email import EmailChannel
from tests.support.smtp import SmtpServer

STAFF = "ana.petrovic@csr-beograd.example"
SENDER = "Followup <followup@csr-beograd.example>"
TEXT = "Interview with participant A-17 is due on 14 March.\n"
HTML = "<p>Interview with participant <b>A-17</b> is due on 14 March.</p>\n"


def reminder(to: str = STAFF, html: str | None = HTML, key: str = "outbox-7") -> OutgoingMessage:
    return OutgoingMessage(key=key, to=to, subject="Follow-up due: A-17", text=TEXT, html=html)


@pytest.fixture
def channel(smtp_server: SmtpServer) -> EmailChannel:
    return EmailChannel(smtp_server.host, smtp_server.port, SENDER, timeout=5.0)


def send_and_fail(channel: EmailChannel, message: OutgoingMessage) -> TransportError:
    with pytest.raises(TransportError) as caught:
        channel.send(message)
    error = caught.value
    # Nothing about the recipient or the body may leak into the error.
    for secret in (message.to, "ana.petrovic", "A-17", "14 March"):
        assert secret not in str(error)
        assert secret not in repr(error)
    return error


def test_text_and_html_alternative_arrive(smtp_server: SmtpServer, channel: EmailChannel) -> None:
    channel.send(reminder())
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == STAFF
    assert mail["From"] == SENDER
    assert mail["Subject"] == "Follow-up due: A-17"
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and plain.get_content() == TEXT
    assert html is not None and html.get_content() == HTML
    [received] = smtp_server.received
    assert received.mail_from == "followup@csr-beograd.example"
    assert received.rcpt_tos == (STAFF,)


def test_a_message_without_html_is_plain_text(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    channel.send(reminder(html=None))
    [mail] = smtp_server.wait_for(1)
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content() == TEXT


def test_non_ascii_subject_and_body_arrive_intact(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    channel.send(
        OutgoingMessage(key="k", to=STAFF, subject="Podsetnik: četvrtak", text="Đorđe, čaša ćup\n")
    )
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"] == "Podsetnik: četvrtak"
    assert mail.get_content() == "Đorđe, čaša ćup\n"


def test_it_returns_the_message_id_as_provider_id(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    delivery = channel.send(reminder())
    [mail] = smtp_server.wait_for(1)
    assert delivery.status == "sent"
    assert delivery.provider_id == mail["Message-ID"]
    assert delivery.provider_id.endswith("@csr-beograd.example>")


def test_a_retry_of_the_same_outbox_row_reuses_its_message_id(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    first = channel.send(reminder(key="outbox-7"))
    again = channel.send(reminder(key="outbox-7"))
    other = channel.send(reminder(key="outbox-8"))
    assert first.provider_id == again.provider_id != other.provider_id
    assert "outbox-7" not in (first.provider_id or "")


def test_a_line_break_in_the_subject_cannot_inject_headers(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    channel.send(OutgoingMessage(key="k", to=STAFF, subject="Due\r\nBcc: x@evil.example", text="t"))
    [mail] = smtp_server.wait_for(1)
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Due Bcc: x@evil.example"


def test_a_line_break_in_the_address_is_permanent(channel: EmailChannel) -> None:
    error = send_and_fail(channel, reminder(to=f"{STAFF}\nBcc: x@evil.example"))
    assert error.permanent is True
    assert str(error) == "Invalid e-mail address"


def test_it_marks_550_as_permanent(smtp_server: SmtpServer, channel: EmailChannel) -> None:
    smtp_server.refuse(STAFF)
    error = send_and_fail(channel, reminder())
    assert error.permanent is True
    assert error.code == "550"
    assert "Recipient address rejected" in str(error)
    assert smtp_server.received == []


def test_it_marks_451_as_retry_later(smtp_server: SmtpServer, channel: EmailChannel) -> None:
    smtp_server.defer(STAFF)
    error = send_and_fail(channel, reminder())
    assert error.permanent is False
    assert error.code == "451"


def test_the_same_message_goes_through_once_the_server_accepts_again(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    smtp_server.defer(STAFF)
    send_and_fail(channel, reminder())
    smtp_server.accept(STAFF)
    channel.send(reminder())
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.parametrize(("code", "permanent"), [(451, False), (452, False), (554, True)])
def test_a_refused_data_transfer_is_sorted_by_its_reply_code(
    smtp_server: SmtpServer, channel: EmailChannel, code: int, permanent: bool
) -> None:
    smtp_server.fail_next_data(1, code=code)
    error = send_and_fail(channel, reminder())
    assert error.permanent is permanent
    assert error.code == str(code)


def test_it_marks_a_refused_connection_as_retry_later(
    smtp_server: SmtpServer, channel: EmailChannel
) -> None:
    smtp_server.stop()
    error = send_and_fail(channel, reminder())
    assert error.permanent is False
    assert error.code == "connection"


def test_it_logs_in_when_given_credentials() -> None:
    with SmtpServer(auth=("followup", "s3cret")) as server:
        channel = EmailChannel(
            server.host, server.port, SENDER, username="followup", password="s3cret"
        )
        channel.send(reminder())
        assert len(server.wait_for(1)) == 1


def test_a_refused_login_is_kept_for_another_try() -> None:
    with SmtpServer(auth=("followup", "s3cret")) as server:
        channel = EmailChannel(
            server.host, server.port, SENDER, username="followup", password="wrong"
        )
        error = send_and_fail(channel, reminder())
    assert error.permanent is False
    assert error.code == "535"
    assert "wrong" not in str(error)


# -- settings ---------------------------------------------------------------------------


def test_from_env_points_the_channel_at_the_server(smtp_server: SmtpServer) -> None:
    channel = build_channel("email", environ=smtp_server.env())
    channel.send(reminder())
    assert smtp_server.wait_for(1)[0]["From"] == "followup@example.org"


def test_the_environment_wins_over_the_config_defaults() -> None:
    channel = EmailChannel.from_env(
        {"host": "smtp.config.example", "port": 2525, "sender": "config@example.org"},
        environ={"FOLLOWUP_SMTP_HOST": "smtp.env.example"},
    )
    assert (channel.host, channel.port, channel.sender) == (
        "smtp.env.example",
        2525,
        "config@example.org",
    )


def test_the_port_defaults_follow_the_tls_mode() -> None:
    base = {"FOLLOWUP_SMTP_HOST": "h", "FOLLOWUP_SMTP_FROM": "f@example.org"}
    assert EmailChannel.from_env(environ=base).port == 25
    assert EmailChannel.from_env(environ={**base, "FOLLOWUP_SMTP_STARTTLS": "true"}).port == 587
    assert EmailChannel.from_env(environ={**base, "FOLLOWUP_SMTP_SSL": "yes"}).port == 465


def test_a_missing_host_names_the_variable() -> None:
    with pytest.raises(ValueError, match="FOLLOWUP_SMTP_HOST is not set"):
        EmailChannel.from_env(environ={"FOLLOWUP_SMTP_FROM": "f@example.org"})


def test_a_missing_sender_names_the_variable() -> None:
    with pytest.raises(ValueError, match="FOLLOWUP_SMTP_FROM is not set"):
        EmailChannel.from_env(environ={"FOLLOWUP_SMTP_HOST": "h"})


@pytest.mark.parametrize("value", ["maybe", "2", "ture"])
def test_starttls_refuses_nonsense_and_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError) as caught:
        EmailChannel.from_env(
            environ={
                "FOLLOWUP_SMTP_HOST": "h",
                "FOLLOWUP_SMTP_FROM": "f@example.org",
                "FOLLOWUP_SMTP_STARTTLS": value,
            }
        )
    assert str(caught.value) == (
        f"environment variable FOLLOWUP_SMTP_STARTTLS must be true or false, got '{value}'"
    )


def test_a_port_that_is_not_a_number_names_the_variable() -> None:
    with pytest.raises(ValueError, match="FOLLOWUP_SMTP_PORT must be a whole number"):
        EmailChannel.from_env(
            environ={
                "FOLLOWUP_SMTP_HOST": "h",
                "FOLLOWUP_SMTP_FROM": "f@example.org",
                "FOLLOWUP_SMTP_PORT": "smtp",
            }
        )


def test_the_password_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    with SmtpServer(auth=("followup", "s3cret")) as server:
        env = {
            **server.env(),
            "FOLLOWUP_SMTP_PASSWORD": "",
            "FOLLOWUP_SMTP_PASSWORD_FILE": str(secret),
        }
        EmailChannel.from_env(environ=env).send(reminder())
        assert len(server.wait_for(1)) == 1


def test_the_password_and_the_password_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="FOLLOWUP_SMTP_PASSWORD or FOLLOWUP_SMTP_PASSWORD_FILE"):
        EmailChannel.from_env(
            environ={
                "FOLLOWUP_SMTP_HOST": "h",
                "FOLLOWUP_SMTP_FROM": "f@example.org",
                "FOLLOWUP_SMTP_USER": "u",
                "FOLLOWUP_SMTP_PASSWORD": "p",
                "FOLLOWUP_SMTP_PASSWORD_FILE": str(tmp_path / "p"),
            }
        )


def test_a_user_without_a_password_is_refused() -> None:
    with pytest.raises(ValueError, match="FOLLOWUP_SMTP_USER is set but FOLLOWUP_SMTP_PASSWORD"):
        EmailChannel.from_env(
            environ={
                "FOLLOWUP_SMTP_HOST": "h",
                "FOLLOWUP_SMTP_FROM": "f@example.org",
                "FOLLOWUP_SMTP_USER": "u",
            }
        )


def test_a_password_in_the_config_file_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown setting.*email.*password"):
        EmailChannel.from_env({"host": "h", "password": "p"}, environ={})
