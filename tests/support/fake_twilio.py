"""A Twilio-compatible Messages API on loopback, for driving the real ``twilio`` client.

In-process (tests)::

    with FakeTwilio() as twilio:
        channel = SmsChannel(twilio.account_sid, twilio.auth_token, "+15005550006",
                             api_base=twilio.base_url)
        twilio.fail_next(2, status=429, retry_after=30)
        twilio.reject("+38160000001", code=21610)

Standalone (several dispatcher processes against one server)::

    python -m tests.support.fake_twilio --port 8765 --record sent.jsonl

prints ``fake_twilio listening on http://127.0.0.1:8765`` once it accepts requests, and
appends every accepted message to ``sent.jsonl`` as one JSON line, flushed at once. The
same failure controls are reachable over HTTP under ``/_fake/`` (see ``_Handler``).

It implements ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic
auth, Twilio's validation errors and Twilio's JSON shapes (``sid`` "SM" + 32 hex,
``status`` "queued"), and can post signed status callbacks to ``StatusCallback``.
Error messages quote the number, as Twilio's do, so tests can check that a channel does
not pass them on.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from twilio.request_validator import RequestValidator

from followup.channels.gsm import segments

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_FROM",
    "AcceptedMessage",
    "CallbackAttempt",
    "FakeTwilio",
    "control",
    "read_record",
]

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
DEFAULT_FROM = "+15005550006"  # Twilio's magic "valid sender" test number

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")

# Twilio's error texts; like Twilio's, several quote the number.
_ERROR_TEXT: dict[int, str] = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service Unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated "
    "by the 'To' number: {to}.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' "
    "phone number: {from_} via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
_STATUS_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


@dataclass(frozen=True)
class AcceptedMessage:
    """One message the fake accepted (and, in record mode, wrote as a JSON line)."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    received_at: float  # time.time() when accepted

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data


@dataclass(frozen=True)
class CallbackAttempt:
    """One status callback the fake posted."""

    url: str
    params: dict[str, str]
    http_status: int | None  # None when the request itself failed
    error: str | None = None


@dataclass
class _Failure:
    status: int
    retry_after: float | None = None


class FakeTwilio:
    """The Messages API on 127.0.0.1, with switches for the failures a test needs.

    Failure modes, checked in this order for every message request:

    * down (``go_down()``, ``fail_until(instant)``) — every request gets 503 (or the
      status given) until ``recover()`` or the instant passes (``time.time()``, so a
      frozen clock in the same process moves it too);
    * ``fail_next(n, status, retry_after)`` — the next n requests fail;
    * wrong basic auth → 401 (20003), another account's URL → 404 (20404);
    * Twilio's own validation (missing To/From/Body, To not E.164 → 21211, body over
      1600 characters → 21617);
    * ``reject(number, code)`` — 400 with that Twilio error code for that number;
    * ``lose_next_replies(n, after)`` — the next n messages are accepted and recorded,
      but the reply never comes: the connection is closed after ``after`` seconds.
    * ``fail_lookups(status)`` — the message list (how a sender asks whether an
      interrupted send arrived) fails until ``answer_lookups()``.

    Anything else is accepted: recorded, answered 201 with status "queued", and (with
    ``status_callbacks=True``) followed by a signed status callback.
    """

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        record_path: str | Path | None = None,
        status_callbacks: bool = False,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.status_callbacks = status_callbacks
        self._host = host
        self._requested_port = port
        self._record_path = Path(record_path) if record_path is not None else None
        self._record: IO[str] | None = None
        self._cond = threading.Condition()
        self._messages: list[AcceptedMessage] = []
        self._callbacks: list[CallbackAttempt] = []
        self._attempts = 0
        self._failures: deque[_Failure] = deque()
        self._down_until: float | None = None
        self._down_status = 503
        self._rejections: dict[str, int] = {}
        self._delivery_failures: dict[str, int] = {}
        self._lost_replies: deque[float] = deque()
        self._lookups_failing: int | None = None
        self._lookups = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        if self._server is not None:
            raise RuntimeError("fake Twilio already running")
        if self._record_path is not None:
            self._record = open(self._record_path, "a", encoding="utf-8")  # noqa: SIM115
        server = _Server((self._host, self._requested_port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: from now on connections are refused."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._cond:
            if self._record is not None:
                self._record.close()
                self._record = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake Twilio is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What to give the channel as ``api_base`` / ``FOLLOWUP_TWILIO_API_BASE``."""
        return f"http://{self._host}:{self.port}"

    def env(self, from_number: str = DEFAULT_FROM) -> dict[str, str]:
        """Environment variables that point the SMS channel here."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM": from_number,
            "FOLLOWUP_TWILIO_API_BASE": self.base_url,
        }

    # -- failure controls ---------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 500, retry_after: float | None = None) -> None:
        """The next ``n`` message requests fail with ``status`` (429 and 5xx make sense),
        carrying ``Retry-After`` when given."""
        with self._cond:
            self._failures.extend(_Failure(status, retry_after) for _ in range(n))

    def lose_next_replies(self, n: int = 1, *, after: float = 0.0) -> None:
        """Accept the next ``n`` messages but never answer: close the connection after
        ``after`` seconds (longer than the client's timeout makes it a timeout)."""
        with self._cond:
            self._lost_replies.extend(after for _ in range(n))

    def fail_lookups(self, *, status: int = 500) -> None:
        """Answer every message-list request (GET Messages.json, how a sender asks whether
        an interrupted send arrived) with ``status`` until ``answer_lookups()``."""
        with self._cond:
            self._lookups_failing = status

    def answer_lookups(self) -> None:
        with self._cond:
            self._lookups_failing = None

    @property
    def lookups(self) -> int:
        """Message-list requests received, failed ones included."""
        with self._cond:
            return self._lookups

    def go_down(self, *, status: int = 503) -> None:
        """Fail every message request until ``recover()``."""
        with self._cond:
            self._down_until = float("inf")
            self._down_status = status

    def fail_until(self, instant: datetime | float, *, status: int = 503) -> None:
        """Fail every message request until the wall-clock ``instant`` (an aware
        datetime or a ``time.time()`` value)."""
        until = instant.timestamp() if isinstance(instant, datetime) else float(instant)
        with self._cond:
            self._down_until = until
            self._down_status = status

    def recover(self) -> None:
        """End an outage and drop any pending ``fail_next`` failures."""
        with self._cond:
            self._down_until = None
            self._failures.clear()

    def reject(self, number: str, code: int = 21211) -> None:
        """Answer 400 with Twilio error ``code`` (21211, 21610, 21614, …) for ``number``."""
        with self._cond:
            self._rejections[number] = code

    def fail_delivery(self, number: str, code: int = 30003) -> None:
        """Accept messages to ``number`` but report them "undelivered" with ``code`` in
        the status callback (30003 unreachable, 30005 unknown, 30006 landline …)."""
        with self._cond:
            self._delivery_failures[number] = code

    def reset(self) -> None:
        """Forget messages, callbacks and every failure mode."""
        with self._cond:
            self._messages.clear()
            self._callbacks.clear()
            self._attempts = 0
            self._failures.clear()
            self._down_until = None
            self._rejections.clear()
            self._delivery_failures.clear()
            self._lost_replies.clear()
            self._lookups_failing = None
            self._lookups = 0

    # -- what happened ------------------------------------------------------------------

    @property
    def messages(self) -> list[AcceptedMessage]:
        """Accepted messages, oldest first (a copy)."""
        with self._cond:
            return list(self._messages)

    @property
    def attempts(self) -> int:
        """Message requests received, failed ones included."""
        with self._cond:
            return self._attempts

    @property
    def callbacks(self) -> list[CallbackAttempt]:
        with self._cond:
            return list(self._callbacks)

    def counts(self) -> Counter[tuple[str, str]]:
        """Accepted messages by (To, Body)."""
        with self._cond:
            return Counter((m.to, m.body) for m in self._messages)

    def count(self, to: str | None = None, body: str | None = None) -> int:
        """Accepted messages, optionally only those to ``to`` and/or with ``body``."""
        with self._cond:
            return sum(
                1
                for m in self._messages
                if (to is None or m.to == to) and (body is None or m.body == body)
            )

    def duplicates(self) -> dict[tuple[str, str], int]:
        """(To, Body) pairs accepted more than once, with how often."""
        return {key: n for key, n in self.counts().items() if n > 1}

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[AcceptedMessage]:
        """Block until at least ``n`` messages were accepted; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= n, timeout):
                raise AssertionError(f"expected {n} messages, got {len(self._messages)}")
            return list(self._messages)

    def wait_for_callbacks(self, n: int, timeout: float = 5.0) -> list[CallbackAttempt]:
        """Block until at least ``n`` status callbacks were posted (or failed)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._callbacks) >= n, timeout):
                raise AssertionError(f"expected {n} callbacks, got {len(self._callbacks)}")
            return list(self._callbacks)

    # -- request handling (called from server threads) ----------------------------------

    def _check_outage(self) -> _Failure | None:
        with self._cond:
            self._attempts += 1
            if self._down_until is not None:
                if time.time() < self._down_until:
                    return _Failure(self._down_status)
                self._down_until = None
            if self._failures:
                return self._failures.popleft()
        return None

    def _rejection(self, to: str) -> int | None:
        with self._cond:
            return self._rejections.get(to)

    def _accept(self, account_sid: str, form: Mapping[str, str]) -> AcceptedMessage:
        message = AcceptedMessage(
            sid="SM" + uuid.uuid4().hex,
            account_sid=account_sid,
            to=form["To"],
            from_=form["From"],
            body=form["Body"],
            status_callback=form.get("StatusCallback") or None,
            received_at=time.time(),
        )
        with self._cond:
            # Recorded before the reply is written: if the reply is lost, the message
            # was still "sent", exactly as with the real Twilio.
            self._messages.append(message)
            if self._record is not None:
                self._record.write(json.dumps(message.as_json(), ensure_ascii=False) + "\n")
                self._record.flush()
            self._cond.notify_all()
        return message

    def _post_status_callback(self, message: AcceptedMessage) -> None:
        assert message.status_callback is not None
        with self._cond:
            failure = self._delivery_failures.get(message.to)
        status = "undelivered" if failure else "delivered"
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if failure:
            params["ErrorCode"] = str(failure)
        signature = RequestValidator(self.auth_token).compute_signature(
            message.status_callback, params
        )
        request = urllib.request.Request(
            message.status_callback,
            data=urllib.parse.urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                attempt = CallbackAttempt(message.status_callback, params, reply.status)
        except urllib.error.HTTPError as e:
            attempt = CallbackAttempt(message.status_callback, params, e.code, str(e))
        except OSError as e:
            attempt = CallbackAttempt(message.status_callback, params, None, str(e))
        with self._cond:
            self._callbacks.append(attempt)
            self._cond.notify_all()

    def _message_json(self, message: AcceptedMessage) -> dict[str, Any]:
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(message.received_at))
        uri = f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}.json"
        return {
            "account_sid": message.account_sid,
            "api_version": "2010-04-01",
            "body": message.body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(segments(message.body)),
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": message.to,
            "uri": uri,
        }

    # -- control API (standalone mode) --------------------------------------------------

    def _control(self, action: str, payload: Mapping[str, Any]) -> Any:
        if action == "messages":
            return {"messages": [m.as_json() for m in self.messages]}
        if action == "stats":
            return {
                "accepted": len(self.messages),
                "attempts": self.attempts,
                "duplicates": [
                    {"to": to, "body": body, "count": n}
                    for (to, body), n in self.duplicates().items()
                ],
            }
        if action == "fail_next":
            self.fail_next(
                int(payload.get("n", 1)),
                status=int(payload.get("status", 500)),
                retry_after=payload.get("retry_after"),
            )
        elif action == "down":
            until = payload.get("until")
            status = int(payload.get("status", 503))
            if until is None:
                self.go_down(status=status)
            else:
                self.fail_until(float(until), status=status)
        elif action == "fail_lookups":
            self.fail_lookups(status=int(payload.get("status", 500)))
        elif action == "answer_lookups":
            self.answer_lookups()
        elif action == "recover":
            self.recover()
        elif action == "reject":
            self.reject(str(payload["number"]), int(payload.get("code", 21211)))
        elif action == "fail_delivery":
            self.fail_delivery(str(payload["number"]), int(payload.get("code", 30003)))
        elif action == "reset":
            self.reset()
        else:
            raise KeyError(action)
        return {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # several dispatchers connecting at once must not be dropped
    fake: FakeTwilio


class _Handler(BaseHTTPRequestHandler):
    """Routes:

    * ``POST /2010-04-01/Accounts/{sid}/Messages.json`` — the Messages API;
    * ``GET /2010-04-01/Accounts/{sid}/Messages.json?To=…&From=…`` — what was accepted;
    * ``GET /_fake/messages``, ``GET /_fake/stats`` — what was accepted;
    * ``POST /_fake/{fail_next|down|recover|reject|fail_delivery|fail_lookups|answer_lookups|reset}`` with a JSON
      body (``{"n": 3, "status": 429, "retry_after": 5}``, ``{"until": 1767225600}``,
      ``{"number": "+381...", "code": 21610}``) — the failure controls.
    """

    server: _Server
    server_version = "FakeTwilio/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests stay quiet; the fake's state says what happened

    # -- plumbing --

    def _send_json(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_error(
        self,
        status: int,
        code: int | None = None,
        headers: Mapping[str, str] | None = None,
        **fmt: str,
    ) -> None:
        code = code or _STATUS_CODES.get(status, status)
        text = _ERROR_TEXT.get(code, "Error").format_map(_Blank(fmt))
        payload = {
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        self._send_json(status, payload, headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorised(self) -> bool:
        fake = self.server.fake
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, fake.account_sid) and hmac.compare_digest(
            password, fake.auth_token
        )

    # -- routes --

    def do_GET(self) -> None:  # noqa: N802
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        match = _MESSAGES_PATH.match(path)
        if path.startswith("/_fake/"):
            self._do_control(path.removeprefix("/_fake/"), {})
        elif match is not None:
            self._list_messages(match.group(1), urllib.parse.parse_qs(parts.query))
        else:
            self._send_error(404, path=path)

    def _list_messages(self, account_sid: str, query: Mapping[str, list[str]]) -> None:
        """GET Messages.json: newest first, filtered by To and From, one page (as the
        real API answers a short list). A sender whose process died mid-send reads it to
        learn whether the message reached Twilio before sending it again."""
        fake = self.server.fake
        if not self._authorised():
            self._send_error(401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        if account_sid != fake.account_sid:
            self._send_error(404, path=self.path)
            return
        with fake._cond:
            fake._lookups += 1
            failing = fake._lookups_failing
        if failing is not None:
            self._send_error(failing)
            return
        to, from_ = query.get("To", [None])[-1], query.get("From", [None])[-1]
        found = [
            fake._message_json(m)
            for m in reversed(fake.messages)
            if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
        ]
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._send_json(
            200,
            {
                "messages": found,
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": max(len(found), 50),
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        path = urllib.parse.urlsplit(self.path).path
        body = self._read_body()
        if path.startswith("/_fake/"):
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                self._send_json(400, {"error": "body must be JSON"})
                return
            self._do_control(path.removeprefix("/_fake/"), payload)
            return
        match = _MESSAGES_PATH.match(path)
        if match is None:
            self._send_error(404, path=path)
            return
        self._create_message(match.group(1), body)

    def _do_control(self, action: str, payload: Mapping[str, Any]) -> None:
        try:
            result = self.server.fake._control(action, payload)
        except KeyError as e:
            self._send_json(404, {"error": f"unknown control action or field {e}"})
        except (TypeError, ValueError) as e:
            self._send_json(400, {"error": str(e)})
        else:
            self._send_json(200, result)

    def _create_message(self, account_sid: str, body: bytes) -> None:
        fake = self.server.fake
        failure = fake._check_outage()
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = f"{failure.retry_after:g}"
            self._send_error(failure.status, headers=headers)
            return
        if not self._authorised():
            self._send_error(401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        if account_sid != fake.account_sid:
            self._send_error(404, path=self.path)
            return
        fields = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        form = {name: values[-1] for name, values in fields.items()}
        to, from_, text = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        problem = _validation_error(to, from_, text) or fake._rejection(to)
        if problem is not None:
            self._send_error(400, problem, to=to, from_=from_)
            return
        message = fake._accept(account_sid, form)
        with fake._cond:
            lost = fake._lost_replies.popleft() if fake._lost_replies else None
        if lost is not None:
            time.sleep(lost)
            self.close_connection = True  # no reply at all: the client cannot tell
            return
        self._send_json(201, fake._message_json(message))
        if fake.status_callbacks and message.status_callback:
            threading.Thread(
                target=fake._post_status_callback, args=(message,), daemon=True
            ).start()


def _validation_error(to: str, from_: str, body: str) -> int | None:
    """The Twilio error code for a request Twilio itself would refuse, or None."""
    if not to:
        return 21604
    if not from_:
        return 21603
    if not body:
        return 21602
    if not _E164.match(to):
        return 21211
    if len(body) > 1600:
        return 21617
    return None


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def control(base_url: str, action: str, **payload: Any) -> Any:
    """Drive a standalone fake over HTTP: ``control(url, "fail_next", n=3, status=429)``,
    ``control(url, "down", until=time.time() + 3600)``, ``control(url, "recover")``,
    ``control(url, "stats")``."""
    url = f"{base_url.rstrip('/')}/_fake/{action}"
    if action in ("messages", "stats"):
        request = urllib.request.Request(url, method="GET")
    else:
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def _parse_rejection(text: str) -> tuple[str, int]:
    number, sep, code = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("use NUMBER=CODE, e.g. +38160000001=21610")
    return number, int(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_twilio",
        description="A Twilio-compatible Messages API on loopback, for tests and drills.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Address to bind (loopback).")
    parser.add_argument("--port", type=int, default=0, help="Port to bind; 0 picks a free one.")
    parser.add_argument("--record", metavar="FILE", help="Append accepted messages as JSON lines.")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument(
        "--reject",
        action="append",
        default=[],
        type=_parse_rejection,
        metavar="NUMBER=CODE",
        help="Answer 400 with this Twilio error code for this number (repeatable).",
    )
    parser.add_argument(
        "--down-until",
        type=float,
        metavar="EPOCH",
        help="Fail every request with 503 until this time.time() instant.",
    )
    parser.add_argument(
        "--status-callbacks", action="store_true", help="POST signed status callbacks."
    )
    args = parser.parse_args(argv)

    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        host=args.host,
        port=args.port,
        record_path=args.record,
        status_callbacks=args.status_callbacks,
    )
    for number, code in args.reject:
        fake.reject(number, code)
    if args.down_until is not None:
        fake.fail_until(args.down_until)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    with fake:
        print(f"fake_twilio listening on {fake.base_url}", flush=True)
        stopping.wait()
    return 0


def read_record(path: str | Path) -> Iterator[dict[str, Any]]:
    """Read a --record file back (for tests that count lost and duplicate messages)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


if __name__ == "__main__":
    sys.exit(main())
