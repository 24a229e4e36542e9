"""The e-mail channel: SMTP through the standard library.

Error sorting: a 5xx reply (recipient refused, message rejected) is permanent; a 4xx
reply, a refused or dropped connection and a timeout are worth another try. The SMTP
server's reply text is never passed on, since it usually quotes the recipient address.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl as ssl_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import TYPE_CHECKING, ClassVar

from followup.channels._settings import Reader
from followup.channels.base import (
    Channel,
    ChannelSettings,
    Delivery,
    OutgoingMessage,
    TransportError,
)

if TYPE_CHECKING:
    from followup.config import Config

__all__ = ["EmailChannel", "EmailSettings"]

# Reply codes with a meaning worth naming; the rest are described by their class.
_SMTP_MEANING: dict[int, str] = {
    421: "Mail server is not available",
    450: "Mailbox temporarily unavailable",
    451: "Mail server deferred the message",
    452: "Mail server is out of storage",
    454: "Mail server cannot accept the message right now",
    550: "Recipient address rejected",
    551: "Recipient address rejected (not local)",
    552: "Message too large or mailbox full",
    553: "Recipient address rejected (invalid address)",
    554: "Message rejected by the mail server",
}


def _reply_error(code: int, stage: str) -> TransportError:
    """Sort an SMTP reply code: 5xx permanent, everything else worth another try."""
    permanent = 500 <= code < 600
    meaning = _SMTP_MEANING.get(code) or (
        "Mail server refused the message" if permanent else "Mail server deferred the message"
    )
    return TransportError(f"{meaning} ({stage}, SMTP {code})", permanent=permanent, code=str(code))


@dataclass(frozen=True)
class EmailSettings(ChannelSettings):
    """The e-mail channel's settings: ``FOLLOWUP_SMTP_*`` variables, each winning over
    the same key of the settings mapping (``host``, ``port``, ``sender``, ``username``,
    ``starttls``, ``ssl``, ``timeout``). The password only comes from the environment:
    ``FOLLOWUP_SMTP_PASSWORD`` or a file named by ``FOLLOWUP_SMTP_PASSWORD_FILE``."""

    kind: ClassVar[str] = "email"
    # Its environment variables: once one is set, e-mail is meant to be used.
    ENVIRONMENT: ClassVar[tuple[str, ...]] = (
        "FOLLOWUP_SMTP_HOST",
        "FOLLOWUP_SMTP_PORT",
        "FOLLOWUP_SMTP_FROM",
        "FOLLOWUP_SMTP_USER",
        "FOLLOWUP_SMTP_PASSWORD",
        "FOLLOWUP_SMTP_STARTTLS",
        "FOLLOWUP_SMTP_SSL",
        "FOLLOWUP_SMTP_TIMEOUT",
    )
    SECRETS: ClassVar[tuple[str, ...]] = ("FOLLOWUP_SMTP_PASSWORD",)
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"host", "port", "sender", "username", "starttls", "ssl", "timeout"}
    )
    # What a [channels.email] table leaves out, once e-mail is meant to be used. The
    # port has no such default: it follows the TLS mode (25, 587 STARTTLS, 465 SSL).
    TABLE_DEFAULTS: ClassVar[Mapping[str, object]] = {
        "host": "localhost",
        "sender": "followup@localhost",
    }

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None, config: Mapping[str, object] | None
    ) -> EmailSettings:
        s = Reader(cls.kind, config, environ, allowed_keys=cls.KEYS, variables=cls.ENVIRONMENT)
        host = s.text("FOLLOWUP_SMTP_HOST", "host", required=True, what="an SMTP server host")
        sender = s.text(
            "FOLLOWUP_SMTP_FROM", "sender", required=True, what="a sender address (From)"
        )
        starttls = s.boolean("FOLLOWUP_SMTP_STARTTLS", "starttls", default=False)
        use_ssl = s.boolean("FOLLOWUP_SMTP_SSL", "ssl", default=False)
        if starttls and use_ssl:
            raise ValueError("FOLLOWUP_SMTP_STARTTLS and FOLLOWUP_SMTP_SSL cannot both be true")
        port = s.integer(
            "FOLLOWUP_SMTP_PORT",
            "port",
            default=465 if use_ssl else 587 if starttls else 25,
            low=1,
            high=65535,
        )
        username = s.text("FOLLOWUP_SMTP_USER", "username")
        password = s.secret("FOLLOWUP_SMTP_PASSWORD")
        if username and password is None:
            raise ValueError(
                "FOLLOWUP_SMTP_USER is set but FOLLOWUP_SMTP_PASSWORD "
                "(or FOLLOWUP_SMTP_PASSWORD_FILE) is not"
            )
        if password is not None and not username:
            raise ValueError("FOLLOWUP_SMTP_PASSWORD is set but FOLLOWUP_SMTP_USER is not")
        timeout = s.number("FOLLOWUP_SMTP_TIMEOUT", "timeout", default=10.0)
        assert host is not None and sender is not None
        return cls(
            host=host,
            port=port,
            sender=sender,
            username=username,
            password=password,
            starttls=starttls,
            ssl=use_ssl,
            timeout=timeout,
        )

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str]) -> Mapping[str, object] | None:
        """E-mail is meant to be used when config.toml has a [channels.email] table or a
        FOLLOWUP_SMTP_* variable is set; with neither it is not set up. Only the keys the
        table gives are passed on, so a default never hides an environment variable's
        effect (FOLLOWUP_SMTP_SSL=1 alone means port 465)."""
        given = "email" in config.channels.model_fields_set or any(
            (environ.get(name) or "").strip()
            for var in cls.ENVIRONMENT
            for name in (var, f"{var}_FILE")
        )
        if not given:
            return None
        return {**cls.TABLE_DEFAULTS, **config.channels.email.model_dump(exclude_none=True)}


class EmailChannel(Channel):
    """Sends each message over a fresh SMTP connection (reminders are few and far between)."""

    kind: ClassVar[str] = "email"
    Settings: ClassVar[type[ChannelSettings]] = EmailSettings

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        ssl: bool = False,
        timeout: float = 10.0,
        *,
        ssl_context: ssl_module.SSLContext | None = None,
    ) -> None:
        if starttls and ssl:
            raise ValueError("Choose STARTTLS or SSL for SMTP, not both")
        if (username is None) != (password is None):
            raise ValueError("An SMTP username needs a password, and a password a username")
        _, address = parseaddr(sender)
        if "@" not in address:
            raise ValueError("The SMTP sender must be an e-mail address, e.g. followup@example.org")
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.ssl = ssl
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._envelope_sender = address
        self._msgid_domain = address.rpartition("@")[2]

    def __repr__(self) -> str:
        return f"EmailChannel(host={self.host!r}, port={self.port!r})"

    def describe(self) -> str:
        return f"e-mail via {self.host}:{self.port}"

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> EmailChannel:
        assert isinstance(settings, EmailSettings)
        return cls(
            settings.host,
            settings.port,
            settings.sender,
            username=settings.username,
            password=settings.password,
            starttls=settings.starttls,
            ssl=settings.ssl,
            timeout=settings.timeout,
        )

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The MIME message for one outgoing message (text, plus HTML when given)."""
        mail = EmailMessage()
        try:
            mail["From"] = self.sender
            mail["To"] = message.to
        except ValueError:  # a line break or other header injection in the address
            raise TransportError("Invalid e-mail address", permanent=True, code="address") from None
        mail["Subject"] = " ".join(message.subject.split())  # no line breaks in a header
        # When it is really handed to the server (RFC 5322), whatever a drill's clock says.
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = self.message_id(message.key)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def message_id(self, key: str) -> str:
        """A Message-ID derived from the outbox key: a retry after a lost reply sends the
        same Message-ID, so mail clients can fold the duplicate. The key is hashed so
        nothing about it shows in the header."""
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        return f"<followup.{digest}@{self._msgid_domain}>"

    def send(self, message: OutgoingMessage) -> Delivery:
        mail = self.build(message)
        _, recipient = parseaddr(message.to)
        if "@" not in recipient:
            raise TransportError("Invalid e-mail address", permanent=True, code="address")
        self._deliver(mail, recipient)
        return Delivery(provider_id=mail["Message-ID"], status="sent")

    def _connect(self) -> smtplib.SMTP:
        if self.ssl:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _tls_context(self) -> ssl_module.SSLContext:
        return self._ssl_context or ssl_module.create_default_context()

    def _deliver(self, mail: EmailMessage, recipient: str) -> None:
        stage = "connect"
        try:
            with self._connect() as smtp:
                if self.starttls:
                    stage = "STARTTLS"
                    smtp.starttls(context=self._tls_context())
                if self.username is not None and self._password is not None:
                    stage = "login"
                    smtp.login(self.username, self._password)
                stage = "send"
                refused = smtp.send_message(
                    mail, from_addr=self._envelope_sender, to_addrs=[recipient]
                )
        except smtplib.SMTPRecipientsRefused as e:
            # One recipient, so one reply; its text quotes the address and is dropped.
            codes = [code for code, _reply in e.recipients.values()]
            raise _reply_error(codes[0] if codes else 550, "recipient") from None
        except smtplib.SMTPAuthenticationError as e:
            # Wrong credentials are the deployment's fault, not the message's: keep the
            # message and try again once the settings are fixed.
            raise TransportError(
                "Mail server refused the login (check FOLLOWUP_SMTP_USER and "
                f"FOLLOWUP_SMTP_PASSWORD, SMTP {e.smtp_code})",
                permanent=False,
                code=str(e.smtp_code),
            ) from None
        except smtplib.SMTPSenderRefused as e:
            raise _reply_error(e.smtp_code, "sender") from None
        except smtplib.SMTPResponseException as e:  # connect, HELO, DATA replies
            raise _reply_error(e.smtp_code, stage) from None
        except smtplib.SMTPNotSupportedError:
            raise TransportError(
                f"Mail server does not support {stage} (check FOLLOWUP_SMTP_STARTTLS "
                "and FOLLOWUP_SMTP_USER)",
                permanent=False,
                code="unsupported",
            ) from None
        except smtplib.SMTPServerDisconnected:
            raise TransportError(
                f"Mail server closed the connection ({stage})", permanent=False, code="disconnected"
            ) from None
        except smtplib.SMTPException as e:
            raise TransportError(
                f"SMTP failure ({stage}, {type(e).__name__})", permanent=False, code="smtp"
            ) from None
        except ssl_module.SSLError as e:
            raise TransportError(
                f"TLS with the mail server failed ({e.reason or type(e).__name__})",
                permanent=False,
                code="tls",
            ) from None
        except TimeoutError:
            raise TransportError(
                f"Mail server timed out ({stage})", permanent=False, code="timeout"
            ) from None
        except ConnectionRefusedError:
            raise TransportError(
                "Mail server refused the connection", permanent=False, code="connection"
            ) from None
        except OSError as e:  # DNS failure, unreachable network, reset connection
            raise TransportError(
                f"Mail server unreachable ({e.strerror or type(e).__name__})",
                permanent=False,
                code="connection",
            ) from None
        if refused:  # only reached when some, not all, recipients were refused
            code, _reply = next(iter(refused.values()))
            raise _reply_error(code, "recipient")
