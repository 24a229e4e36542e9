"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives.

::

    with SmtpServer() as smtp:
        channel = EmailChannel(smtp.host, smtp.port, "followup@example.org")
        smtp.defer("ana@example.org")        # 451 at RCPT: try again later
        smtp.refuse("old@example.org")       # 550 at RCPT: permanent
        smtp.fail_next_data(1, code=554)     # the next DATA is refused
        smtp.wait_for(1)[0]["Subject"]

Received messages are parsed ``email.message.EmailMessage`` objects. Replies quote the
recipient address, as real servers do, so tests can check a channel does not pass it on.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["ReceivedMail", "SmtpServer"]

_REPLY_TEXT = {
    421: "421 4.3.2 Service not available, closing transmission channel",
    450: "450 4.2.1 <{address}>: Mailbox temporarily unavailable",
    451: "451 4.3.0 <{address}>: Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 <{address}>: Recipient address rejected: User unknown",
    552: "552 5.2.2 <{address}>: Mailbox full",
    553: "553 5.1.3 <{address}>: Bad recipient address syntax",
    554: "554 5.7.1 <{address}>: Relay access denied",
}


def _reply(code: int, address: str = "") -> str:
    return _REPLY_TEXT.get(code, f"{code} Refused <{{address}}>").format(address=address)


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _LoopbackController(Controller):
    """aiosmtpd's Controller, bound to a free port (it otherwise needs a fixed one)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port; thread-safe record of what arrived.

    ``auth=("user", "password")`` makes it offer AUTH (without TLS, loopback only) and
    refuse other credentials with 535; clients that do not log in are still served.
    """

    def __init__(self, *, host: str = "127.0.0.1", auth: tuple[str, str] | None = None) -> None:
        self.host = host
        self.auth = auth
        self._cond = threading.Condition()
        self._received: list[ReceivedMail] = []
        self._rcpt_replies: dict[str, int] = {}
        self._data_failures: deque[int] = deque()
        self._controller: _LoopbackController | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> SmtpServer:
        if self._controller is not None:
            raise RuntimeError("SMTP server already running")
        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        controller = _LoopbackController(
            _Handler(self),
            hostname=self.host,
            port=0,
            server_hostname="mail.test",  # skip the FQDN lookup
            ready_timeout=10.0,
            **kwargs,
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening: from now on connections are refused."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("SMTP server is not running")
        return self._controller.port

    def env(self, sender: str = "followup@example.org") -> dict[str, str]:
        """Environment variables that point the e-mail channel here."""
        env = {
            "FOLLOWUP_SMTP_HOST": self.host,
            "FOLLOWUP_SMTP_PORT": str(self.port),
            "FOLLOWUP_SMTP_FROM": sender,
        }
        if self.auth is not None:
            env.update(FOLLOWUP_SMTP_USER=self.auth[0], FOLLOWUP_SMTP_PASSWORD=self.auth[1])
        return env

    # -- failure controls ---------------------------------------------------------------

    def defer(self, address: str, code: int = 451) -> None:
        """Answer RCPT TO for ``address`` with a temporary 4xx reply."""
        self._set_rcpt_reply(address, code)

    def refuse(self, address: str, code: int = 550) -> None:
        """Answer RCPT TO for ``address`` with a permanent 5xx reply."""
        self._set_rcpt_reply(address, code)

    def accept(self, address: str) -> None:
        """Undo ``defer``/``refuse`` for ``address``."""
        with self._cond:
            self._rcpt_replies.pop(address.lower(), None)

    def fail_next_data(self, n: int = 1, *, code: int = 451) -> None:
        """Refuse the next ``n`` messages at the end of DATA with ``code``."""
        with self._cond:
            self._data_failures.extend([code] * n)

    def reset(self) -> None:
        """Forget received messages and every failure mode."""
        with self._cond:
            self._received.clear()
            self._rcpt_replies.clear()
            self._data_failures.clear()

    def _set_rcpt_reply(self, address: str, code: int) -> None:
        with self._cond:
            self._rcpt_replies[address.lower()] = code

    # -- what arrived -------------------------------------------------------------------

    @property
    def received(self) -> list[ReceivedMail]:
        with self._cond:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._cond:
            return [r.message for r in self._received]

    def wait_for(self, n: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least ``n`` messages arrived; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._received) >= n, timeout):
                raise AssertionError(f"expected {n} messages, got {len(self._received)}")
            return [r.message for r in self._received]

    # -- hooks (called on the server's event-loop thread) -------------------------------

    def _rcpt_reply(self, address: str) -> str | None:
        with self._cond:
            code = self._rcpt_replies.get(address.lower())
        return None if code is None else _reply(code, address)

    def _data_reply(self, rcpt_tos: list[str]) -> str | None:
        with self._cond:
            code = self._data_failures.popleft() if self._data_failures else None
        return None if code is None else _reply(code, ",".join(rcpt_tos))

    def _record(self, envelope: Envelope) -> None:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        # Wire line endings (CRLF) become Python's, so bodies compare with what was sent.
        message = BytesParser(policy=policy.default).parsebytes(content.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), message)
        with self._cond:
            self._received.append(mail)
            self._cond.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.auth is not None
        ok = (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(),
                data.password.decode(),
            )
            == self.auth
        )
        # handled=False: let aiosmtpd answer 535 itself rather than stay silent.
        return AuthResult(success=ok, handled=False)


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.owner._rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        reply = self.owner._data_reply(envelope.rcpt_tos)
        if reply is not None:
            return reply
        self.owner._record(envelope)
        return "250 Message accepted for delivery"
