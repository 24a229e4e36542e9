"""The one small interface every channel implements.

A channel turns an :class:`OutgoingMessage` into a :class:`Delivery` or raises
:class:`TransportError`. Provider details (SMTP reply codes, Twilio error codes, HTTP
statuses) become domain meaning inside the channel; callers only learn whether to try
again later (``permanent=False``) or to give up (``permanent=True``).

Nothing here ever logs or raises with a message body or a recipient address: the body
may be a reminder about a survivor's follow-up and addresses are staff data. Use the
outbox key to say which message a log line is about.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    from followup.config import Config

__all__ = [
    "Channel",
    "ChannelSettings",
    "Delivery",
    "LookupNotSupported",
    "OutgoingMessage",
    "TransportError",
]


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message, ready for a channel."""

    key: str
    """The outbox row's unique key: the idempotency hint and the id used in logs."""
    to: str
    """E.164 phone number (sms), e-mail address (email) or a staff label (console)."""
    subject: str
    """E-mail subject; sms and console may ignore it."""
    text: str
    """Plain-text body, already rendered."""
    html: str | None = None
    """Optional HTML alternative (e-mail only)."""

    def __repr__(self) -> str:
        # Keep bodies and addresses out of tracebacks and debug logs.
        return f"OutgoingMessage(key={self.key!r})"


@dataclass(frozen=True)
class Delivery:
    """What the provider said when it took the message."""

    provider_id: str | None
    """Twilio message SID, SMTP Message-ID, or None for the console."""
    status: str
    """The provider's word for it: "sent", "queued", "accepted"."""


class TransportError(Exception):
    """A send that did not happen.

    ``permanent=True``: this message will never go through as it is (invalid number,
    recipient opted out, address refused); do not retry it.
    ``permanent=False``: the provider or the network is having trouble; try again later,
    no sooner than ``retry_after`` seconds when the provider said so.

    ``message`` is domain meaning ("Invalid phone number"), never the recipient's
    address or the message body. ``code`` is the provider's code as a string ("21211",
    "550") or a short word for network trouble ("connection", "timeout").

    ``maybe_sent=True``: the request may have reached the provider before it failed (the
    reply timed out or the connection broke after the request went out). The next
    attempt asks the provider first where it can, rather than sending a second copy.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str | None = None,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent

    def __repr__(self) -> str:
        return (
            f"TransportError({self.message!r}, permanent={self.permanent!r}, "
            f"code={self.code!r}, retry_after={self.retry_after!r}, "
            f"maybe_sent={self.maybe_sent!r})"
        )


class LookupNotSupported(Exception):
    """Raised by :meth:`Channel.find_sent` when the channel's provider cannot be asked
    whether a message already went: a message in doubt is then simply sent again."""


class ChannelSettings(abc.ABC):
    """One channel's settings, declared and validated by the channel itself.

    ``ENVIRONMENT`` names every environment variable the channel reads (``SECRETS`` the
    ones that may instead name a file, as ``VAR_FILE``); ``KEYS`` every key its settings
    mapping accepts. An environment variable wins over the same setting in the mapping;
    secrets only ever come from the environment.
    """

    kind: ClassVar[str]
    ENVIRONMENT: ClassVar[tuple[str, ...]] = ()
    SECRETS: ClassVar[tuple[str, ...]] = ()
    KEYS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    @abc.abstractmethod
    def from_env(
        cls, environ: Mapping[str, str] | None, config: Mapping[str, object] | None
    ) -> Self:
        """Read and check the settings: ``environ`` (default ``os.environ``) wins over
        ``config`` (the channel's settings mapping). Raises NotSetUp when the channel is
        not meant to be used, any other ValueError (one line, naming the variable or key
        and the fix) when its settings are given but wrong."""

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str]) -> Mapping[str, object] | None:
        """The channel's settings mapping as a deployment's config.toml gives it (None:
        the file says nothing about this channel)."""
        return None


class Channel(abc.ABC):
    """Sends messages of one kind. Implementations are safe to share between threads."""

    kind: ClassVar[str]
    Settings: ClassVar[type[ChannelSettings]]

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> Self:
        """Build from checked settings."""
        raise NotImplementedError(f"{cls.__name__} cannot be built from settings")

    @classmethod
    def from_env(
        cls,
        defaults: Mapping[str, object] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """Build from the environment (``environ``, default ``os.environ``), which wins
        over ``defaults`` (the channel's settings from the config file). Raises
        ValueError naming the variable or setting to fix."""
        return cls.from_settings(cls.Settings.from_env(environ, defaults))

    @abc.abstractmethod
    def send(self, message: OutgoingMessage) -> Delivery:
        """Send one message, or raise :class:`TransportError`."""

    def find_sent(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The provider's id of this message when the provider already took it since
        ``since``, else None. Raises :class:`TransportError` when the provider cannot be
        asked right now, and :class:`LookupNotSupported` (the default) when this channel
        can never tell."""
        raise LookupNotSupported(f"the {self.kind} channel cannot look up earlier sends")

    def describe(self) -> str:
        """A few words for the start-up banner; never a secret."""
        return self.kind

    def close(self) -> None:  # noqa: B027 - an optional hook, deliberately empty
        """Release connections or files. Optional; the default does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
