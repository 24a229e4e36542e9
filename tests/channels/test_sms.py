from __future__ import annotations

import base64
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from followup.channels import build_channel
from followup.channels.base import OutgoingMessage, TransportError
from followup.channels.sms import SmsChannel, twilio_error_meaning, verify_twilio_request
from tests.support.fake_twilio import DEFAULT_FROM, FakeTwilio

STAFF_PHONE = "+381641234567"
TEXT = "Follow-up A-17 (completion + 3 months) is due on 14 March."


def reminder(to: str = STAFF_PHONE, text: str = TEXT, key: str = "outbox-9") -> OutgoingMessage:
    return OutgoingMessage(key=key, to=to, subject="", text=text)


@pytest.fixture
def channel(fake_twilio: FakeTwilio) -> Iterator[SmsChannel]:
    with SmsChannel(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        DEFAULT_FROM,
        api_base=fake_twilio.base_url,
        timeout=5.0,
    ) as channel:
        yield channel


def send_and_fail(channel: SmsChannel, message: OutgoingMessage) -> TransportError:
    with pytest.raises(TransportError) as caught:
        channel.send(message)
    error = caught.value
    # The fake quotes the number in its error text, as Twilio does; none of it may leak.
    for secret in (message.to, message.to[1:], "A-17", "14 March"):
        assert secret not in str(error)
        assert secret not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__
    return error


def test_a_send_arrives_with_the_right_to_from_and_body(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    channel.send(reminder())
    [message] = fake_twilio.messages
    assert (message.to, message.from_, message.body) == (STAFF_PHONE, DEFAULT_FROM, TEXT)
    assert message.account_sid == fake_twilio.account_sid


def test_it_returns_the_message_sid_as_provider_id(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    delivery = channel.send(reminder())
    assert delivery.status == "queued"
    assert re.fullmatch(r"SM[0-9a-f]{32}", delivery.provider_id or "")
    assert delivery.provider_id == fake_twilio.messages[0].sid


def test_it_authenticates_with_the_account_sid_and_auth_token(fake_twilio: FakeTwilio) -> None:
    wrong = SmsChannel(
        fake_twilio.account_sid, "not-the-token", DEFAULT_FROM, api_base=fake_twilio.base_url
    )
    error = send_and_fail(wrong, reminder())
    assert fake_twilio.messages == []
    # Wrong credentials are the deployment's fault: keep the message for after the fix.
    assert error.permanent is False
    assert error.code == "20003"
    assert "TWILIO_AUTH_TOKEN" in str(error)


def test_a_wrong_api_base_is_kept_for_another_try(fake_twilio: FakeTwilio) -> None:
    wrong = SmsChannel(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        DEFAULT_FROM,
        api_base=fake_twilio.base_url + "/not-twilio",
    )
    error = send_and_fail(wrong, reminder())
    assert (error.permanent, error.code) == (False, "20404")
    assert "FOLLOWUP_TWILIO_API_BASE" in str(error)


def test_serbian_text_arrives_gsm7_safe(fake_twilio: FakeTwilio, channel: SmsChannel) -> None:
    channel.send(reminder(text="Podsetnik: razgovor „A-17“ u četvrtak — Đorđe će doći…"))
    [message] = fake_twilio.messages
    assert message.body == 'Podsetnik: razgovor "A-17" u cetvrtak - Djordje ce doci...'


def test_it_marks_500_as_retry_later(fake_twilio: FakeTwilio, channel: SmsChannel) -> None:
    fake_twilio.fail_next(1, status=500)
    error = send_and_fail(channel, reminder())
    assert error.permanent is False
    assert error.code == "20500"
    assert error.retry_after is None
    assert fake_twilio.messages == []


def test_it_marks_429_as_retry_later_and_carries_retry_after(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.fail_next(1, status=429, retry_after=30)
    error = send_and_fail(channel, reminder())
    assert error.permanent is False
    assert error.retry_after == 30.0
    assert str(error) == "Twilio rate limit reached"


def test_it_marks_503_with_retry_after_as_retry_later(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.fail_next(1, status=503, retry_after=120)
    error = send_and_fail(channel, reminder())
    assert (error.permanent, error.retry_after) == (False, 120.0)


def test_it_marks_21211_as_permanent(fake_twilio: FakeTwilio, channel: SmsChannel) -> None:
    fake_twilio.reject(STAFF_PHONE, code=21211)
    error = send_and_fail(channel, reminder())
    assert error.permanent is True
    assert error.code == "21211"
    assert str(error) == "Invalid phone number"


def test_a_number_that_is_not_e164_is_twilio_21211(channel: SmsChannel) -> None:
    error = send_and_fail(channel, reminder(to="064 123 4567"))
    assert (error.permanent, error.code, str(error)) == (True, "21211", "Invalid phone number")


def test_it_marks_21610_as_permanent_opted_out(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.reject(STAFF_PHONE, code=21610)
    error = send_and_fail(channel, reminder())
    assert error.permanent is True
    assert error.code == "21610"
    assert "opted out" in str(error)


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (21614, "Not a mobile number"),
        (21408, "No permission to send to this region"),
        (21612, "Twilio cannot route SMS to this number"),
        (21999, "Twilio refused the message (error 21999)"),
    ],
)
def test_other_4xx_refusals_are_permanent_with_a_domain_message(
    fake_twilio: FakeTwilio, channel: SmsChannel, code: int, meaning: str
) -> None:
    fake_twilio.reject(STAFF_PHONE, code=code)
    error = send_and_fail(channel, reminder())
    assert (error.permanent, error.code, str(error)) == (True, str(code), meaning)


def test_a_body_over_1600_characters_is_permanent(channel: SmsChannel) -> None:
    error = send_and_fail(channel, reminder(text="x" * 1601))
    assert (error.permanent, str(error)) == (True, "Message body too long")


def test_it_marks_a_refused_connection_as_retry_later(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.stop()
    error = send_and_fail(channel, reminder())
    assert (error.permanent, error.code) == (False, "connection")


def test_a_refused_connection_cannot_have_sent_anything(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.stop()
    assert send_and_fail(channel, reminder()).maybe_sent is False


def test_a_lost_reply_may_have_sent_the_message_and_says_so(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.lose_next_replies(1)
    error = send_and_fail(channel, reminder())
    assert (error.permanent, error.code, error.maybe_sent) == (False, "connection", True)
    assert len(fake_twilio.messages) == 1  # Twilio has it, though we never heard


def test_a_reply_that_times_out_may_have_sent_the_message_and_says_so(
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.lose_next_replies(1, after=0.6)
    with SmsChannel(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        DEFAULT_FROM,
        api_base=fake_twilio.base_url,
        timeout=0.2,
    ) as impatient:
        error = send_and_fail(impatient, reminder())
    assert (error.permanent, error.code, error.maybe_sent) == (False, "timeout", True)
    assert channel_found_it(fake_twilio)


def channel_found_it(fake_twilio: FakeTwilio) -> bool:
    with SmsChannel(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        DEFAULT_FROM,
        api_base=fake_twilio.base_url,
        timeout=5.0,
    ) as asking:
        since = datetime.now(UTC) - timedelta(minutes=5)
        return asking.find_sent(reminder(), since) == fake_twilio.messages[0].sid


@pytest.mark.parametrize(("status", "maybe_sent"), [(500, True), (502, True), (503, False)])
def test_a_server_error_may_have_sent_the_message_but_unavailable_has_not(
    fake_twilio: FakeTwilio, channel: SmsChannel, status: int, maybe_sent: bool
) -> None:
    fake_twilio.fail_next(1, status=status)
    assert send_and_fail(channel, reminder()).maybe_sent is maybe_sent


def test_it_keeps_failing_while_twilio_is_down_and_sends_once_it_recovers(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    fake_twilio.go_down()
    for attempt in range(3):
        assert send_and_fail(channel, reminder(key=f"outbox-{attempt}")).permanent is False
    fake_twilio.recover()
    channel.send(reminder())
    assert fake_twilio.attempts == 4
    assert fake_twilio.count(to=STAFF_PHONE, body=TEXT) == 1


def test_an_outage_until_an_instant_follows_a_frozen_clock(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    with freeze_time("2025-03-14 09:00:00", tick=False) as frozen:
        fake_twilio.fail_until(datetime.now(UTC) + timedelta(hours=1))
        assert send_and_fail(channel, reminder()).permanent is False
        frozen.tick(timedelta(minutes=59, seconds=59))
        assert send_and_fail(channel, reminder()).permanent is False
        frozen.tick(timedelta(seconds=1))
        channel.send(reminder())
    assert len(fake_twilio.messages) == 1


def test_the_fake_counts_duplicates_by_number_and_body(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    channel.send(reminder())
    channel.send(reminder())
    channel.send(reminder(text="another"))
    assert fake_twilio.duplicates() == {(STAFF_PHONE, TEXT): 2}
    assert fake_twilio.count(to=STAFF_PHONE) == 3


def test_sends_from_many_threads_all_arrive_once(
    fake_twilio: FakeTwilio, channel: SmsChannel
) -> None:
    texts = [f"reminder {i}" for i in range(40)]
    threads = [
        threading.Thread(target=channel.send, args=(reminder(text=t, key=t),)) for t in texts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.body for m in fake_twilio.messages) == sorted(texts)
    assert fake_twilio.duplicates() == {}


# -- status callbacks and their signatures -----------------------------------------------


class _CallbackReceiver:
    """A webhook endpoint that keeps the requests it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers["Content-Length"])
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                receiver.requests.append(
                    (self.path, form, self.headers.get("X-Twilio-Signature", ""))
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/twilio/status?site=BG"

    def __enter__(self) -> _CallbackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_it_asks_for_a_status_callback_that_verifies_as_twilio_signed() -> None:
    with (
        FakeTwilio(status_callbacks=True) as fake,
        _CallbackReceiver() as receiver,
        SmsChannel(
            fake.account_sid,
            fake.auth_token,
            DEFAULT_FROM,
            api_base=fake.base_url,
            status_callback=receiver.url,
        ) as channel,
    ):
        sid = channel.send(reminder()).provider_id
        [attempt] = fake.wait_for_callbacks(1)
        assert attempt.http_status == 204
    [(path, form, signature)] = receiver.requests
    assert path == "/twilio/status?site=BG"
    assert form["MessageSid"] == sid
    assert form["MessageStatus"] == "delivered"
    assert verify_twilio_request(fake.auth_token, receiver.url, form, signature)
    assert not verify_twilio_request("another-token", receiver.url, form, signature)
    assert not verify_twilio_request(fake.auth_token, receiver.url, {**form, "To": "+1"}, signature)
    assert not verify_twilio_request(fake.auth_token, receiver.url, form, None)


def test_a_failed_delivery_is_reported_undelivered_with_its_code() -> None:
    with (
        FakeTwilio(status_callbacks=True) as fake,
        _CallbackReceiver() as receiver,
        SmsChannel(
            fake.account_sid,
            fake.auth_token,
            DEFAULT_FROM,
            api_base=fake.base_url,
            status_callback=receiver.url,
        ) as channel,
    ):
        fake.fail_delivery(STAFF_PHONE, code=30005)
        channel.send(reminder())
        [attempt] = fake.wait_for_callbacks(1)
    assert attempt.params["MessageStatus"] == "undelivered"
    assert (
        twilio_error_meaning(int(attempt.params["ErrorCode"])) == "Unknown number (does not exist)"
    )


# -- settings ---------------------------------------------------------------------------


def test_from_env_points_the_real_client_at_the_fake(fake_twilio: FakeTwilio) -> None:
    channel = build_channel("sms", environ=fake_twilio.env())
    channel.send(reminder())
    assert fake_twilio.count(to=STAFF_PHONE) == 1


def test_an_edge_and_region_in_the_environment_still_reach_the_api_base(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    SmsChannel.from_env(environ=fake_twilio.env()).send(reminder())
    assert fake_twilio.count(to=STAFF_PHONE) == 1


def test_without_an_api_base_it_talks_to_twilio_itself() -> None:
    channel = SmsChannel.from_env(
        environ={"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+1"}
    )
    assert channel.api_base == "https://api.twilio.com"


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"])
def test_missing_credentials_name_the_variable(missing: str, fake_twilio: FakeTwilio) -> None:
    env = {k: v for k, v in fake_twilio.env().items() if k != missing}
    with pytest.raises(ValueError, match=f"{missing} is not set"):
        SmsChannel.from_env(environ=env)


def test_the_auth_token_can_come_from_a_file(fake_twilio: FakeTwilio, tmp_path: Path) -> None:
    token = tmp_path / "twilio-token"
    token.write_text(fake_twilio.auth_token + "\n")
    env = {k: v for k, v in fake_twilio.env().items() if k != "TWILIO_AUTH_TOKEN"}
    SmsChannel.from_env(environ={**env, "TWILIO_AUTH_TOKEN_FILE": str(token)}).send(reminder())
    assert len(fake_twilio.messages) == 1


def test_the_environment_wins_over_the_config_defaults(fake_twilio: FakeTwilio) -> None:
    channel = SmsChannel.from_env(
        {"from_number": "+15550000000", "api_base": "http://127.0.0.1:9"},
        environ=fake_twilio.env(),
    )
    channel.send(reminder())
    assert fake_twilio.messages[0].from_ == DEFAULT_FROM


def test_an_auth_token_in_the_config_file_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown setting.*sms.*auth_token"):
        SmsChannel.from_env({"auth_token": "t"}, environ={})


def test_an_api_base_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="FOLLOWUP_TWILIO_API_BASE must be an http"):
        SmsChannel("AC1", "t", "+1", api_base="127.0.0.1:8000")


def test_the_fake_accepts_a_plain_form_post_with_basic_auth(fake_twilio: FakeTwilio) -> None:
    request = urllib.request.Request(
        f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
        data=urllib.parse.urlencode(
            {"To": STAFF_PHONE, "From": DEFAULT_FROM, "Body": "x"}
        ).encode(),
        headers={
            "Authorization": "Basic "
            + base64.b64encode(
                f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode()
            ).decode()
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 201
    assert fake_twilio.count() == 1
