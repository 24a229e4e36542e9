"""Channels: console, e-mail, SMS — one module each behind one small interface.

>>> channel = build_channel("console")
>>> channel.send(OutgoingMessage(key="k1", to="Ana (facilitator)", subject="Due", text="..."))
... # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from followup.channels.base import (
    Channel,
    ChannelSettings,
    Delivery,
    LookupNotSupported,
    OutgoingMessage,
    TransportError,
)

__all__ = [
    "CHANNEL_KINDS",
    "Channel",
    "ChannelSettings",
    "Delivery",
    "LookupNotSupported",
    "OutgoingMessage",
    "TransportError",
    "build_channel",
    "channel_class",
]

# Imported on first use, so a console-only deployment never loads twilio.
_REGISTRY: dict[str, tuple[str, str]] = {
    "console": ("followup.channels.console", "ConsoleChannel"),
    "email": ("followup.channels.email", "EmailChannel"),
    "sms": ("followup.channels.sms", "SmsChannel"),
}

CHANNEL_KINDS: tuple[str, ...] = tuple(_REGISTRY)


def channel_class(kind: str) -> type[Channel]:
    """The Channel class for a kind ("console", "email", "sms")."""
    try:
        module_name, class_name = _REGISTRY[kind]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown channel kind {kind!r}; valid kinds: {', '.join(CHANNEL_KINDS)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def build_channel(
    kind: str,
    settings: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Channel:
    """A ready channel of the given kind.

    ``settings`` are the channel's non-secret settings from the config file; the
    environment (``environ``, default ``os.environ``) wins over them, and secrets
    (SMTP password, Twilio auth token) only come from the environment. Raises
    ValueError naming the variable or key to fix.
    """
    return channel_class(kind).from_env(settings, environ=environ)
