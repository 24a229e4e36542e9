"""The console channel: the embedded default, one readable block per message."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, TextIO

from followup.channels._settings import Reader
from followup.channels.base import (
    Channel,
    ChannelSettings,
    Delivery,
    OutgoingMessage,
    TransportError,
)
from followup.values import escape_controls

__all__ = ["ConsoleChannel", "ConsoleSettings"]


@dataclass(frozen=True)
class ConsoleSettings(ChannelSettings):
    """The console channel has no settings; any key given is refused."""

    kind: ClassVar[str] = "console"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None, config: Mapping[str, object] | None
    ) -> ConsoleSettings:
        Reader(cls.kind, config, environ, allowed_keys=cls.KEYS)
        return cls()


class ConsoleChannel(Channel):
    """Writes each message to a text stream (standard output unless told otherwise)."""

    kind: ClassVar[str] = "console"
    Settings: ClassVar[type[ChannelSettings]] = ConsoleSettings

    def __init__(self, stream: TextIO | None = None) -> None:
        # None means "sys.stdout at the time of sending", so redirection still works.
        self._stream = stream
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> ConsoleChannel:
        return cls()

    def send(self, message: OutgoingMessage) -> Delivery:
        stream = self._stream if self._stream is not None else sys.stdout
        block = self.format(message)
        try:
            with self._lock:  # blocks from several threads never interleave
                stream.write(block)
                stream.flush()
        except (OSError, ValueError) as e:  # closed pipe or closed file
            raise TransportError(
                f"Console output is not writable ({type(e).__name__})",
                permanent=False,
                code="console",
            ) from None
        return Delivery(provider_id=None, status="sent")

    @staticmethod
    def format(message: OutgoingMessage) -> str:
        """The block written for one message. Control characters are written as escapes
        (a line feed in a name as \\n, an escape sequence as \\x1b), so no value can
        forge a line or a message of its own; the body keeps its own line breaks, and a
        body line that looks like the block's frame is indented."""
        body = [
            "  " + line if line.startswith("-----") else line
            for line in escape_controls(message.text.rstrip("\n"), keep="\n").split("\n")
        ]
        lines = [
            f"----- message {escape_controls(message.key)} -----",
            f"To:      {escape_controls(message.to)}",
            f"Subject: {escape_controls(message.subject)}",
            "",
            *body,
            "-" * 40,
            "",
        ]
        return "\n".join(lines) + "\n"
