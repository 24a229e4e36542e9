"""Loopback servers as pytest fixtures.

Registered for the whole suite from the root conftest with
``pytest_plugins = ["tests.support.fixtures"]``.

* ``fake_twilio`` — a running :class:`~tests.support.fake_twilio.FakeTwilio`; point the
  SMS channel at ``fake_twilio.base_url`` (or ``fake_twilio.env()``).
* ``smtp_server`` — a running :class:`~tests.support.smtp.SmtpServer`; point the e-mail
  channel at ``smtp_server.host`` / ``smtp_server.port`` (or ``smtp_server.env()``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_twilio import FakeTwilio
from tests.support.smtp import SmtpServer

__all__ = ["fake_twilio", "smtp_server"]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A Twilio-compatible Messages API on 127.0.0.1, stopped after the test."""
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives, stopped after the test."""
    with SmtpServer() as server:
        yield server
