"""The SMS channel: the real ``twilio`` client, optionally pointed at a Twilio-compatible
base URL (a test double, a regional proxy).

Twilio's error codes become domain meaning here (21211 → "Invalid phone number",
permanent); callers never see HTTP. Twilio's own error text is never passed on: it
quotes the recipient's number.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from followup.channels._settings import Reader
from followup.channels.base import (
    Channel,
    ChannelSettings,
    Delivery,
    OutgoingMessage,
    TransportError,
)
from followup.channels.gsm import to_gsm7

if TYPE_CHECKING:
    from followup.config import Config

__all__ = [
    "STATUS_CALLBACK_PATH",
    "TWILIO_API_BASE",
    "SmsChannel",
    "SmsSettings",
    "twilio_error_meaning",
    "verify_twilio_request",
]

TWILIO_API_BASE = "https://api.twilio.com"
# Where the web app takes Twilio's delivery reports.
STATUS_CALLBACK_PATH = "/twilio/status"

# Error codes from Twilio's error dictionary, in the words a member of staff would use.
# 3xxxx codes arrive in status callbacks (delivery failed after Twilio accepted the
# message); they are here so the status-callback webhook can use the same words.
_TWILIO_ERRORS: dict[int, str] = {
    20003: "Twilio rejected the credentials (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)",
    20404: "Twilio account or API not found (check TWILIO_ACCOUNT_SID and "
    "FOLLOWUP_TWILIO_API_BASE)",
    20429: "Twilio rate limit reached",
    21211: "Invalid phone number",
    21212: "Invalid sender number (check TWILIO_FROM)",
    21408: "No permission to send to this region",
    21602: "Message body is empty",
    21603: "Sender number missing (check TWILIO_FROM)",
    21604: "Phone number missing",
    21606: "The sender number cannot send SMS (check TWILIO_FROM)",
    21608: "Trial accounts can only send to verified numbers",
    21610: "Recipient has opted out (STOP)",
    21612: "Twilio cannot route SMS to this number",
    21614: "Not a mobile number",
    21617: "Message body too long",
    21635: "Not a mobile number",
    21660: "The sender number does not belong to this Twilio account (check TWILIO_FROM)",
    30003: "Unreachable handset (switched off or out of coverage)",
    30004: "Message blocked by the recipient or their carrier",
    30005: "Unknown number (does not exist)",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered by the carrier",
    30008: "Delivery failed for an unknown reason",
}


def twilio_error_meaning(code: int | None) -> str:
    """Twilio error code → a short domain message (never the number or the body)."""
    if code is None:
        return "Twilio refused the message"
    return _TWILIO_ERRORS.get(code, f"Twilio refused the message (error {code})")


def verify_twilio_request(
    auth_token: str, url: str, params: Mapping[str, Any], signature: str | None
) -> bool:
    """Whether a webhook request (e.g. a status callback) really comes from Twilio.

    ``url`` is the full URL Twilio requested (scheme, host, path and query), ``params``
    the form fields it posted, ``signature`` the ``X-Twilio-Signature`` header.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        # An HTTP date on Twilio's clock, which is the real one whatever a drill says.
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class _ApiBaseHttpClient(TwilioHttpClient):
    """twilio's own HTTP client, sending ``api.twilio.com`` requests to another base URL.

    A custom HTTP client is the extension point Twilio documents for this; the client
    builds ``https://api.twilio.com/2010-04-01/...`` (or ``api.{edge}.{region}...`` when
    TWILIO_EDGE/TWILIO_REGION are set) and only the scheme, host and any path prefix are
    swapped. It also keeps, per thread, the headers of the last response, because
    TwilioRestException does not carry them and a 429's Retry-After matters.
    """

    def __init__(self, api_base: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/") if api_base else None
        self._local = threading.local()

    def rewrite(self, url: str) -> str:
        if not self.api_base:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == "api.twilio.com" or (host.startswith("api.") and host.endswith(".twilio.com")):
            rest = url[len(f"{parts.scheme}://{parts.netloc}") :]
            return self.api_base + rest
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self._local.headers = {}
        response = super().request(method, self.rewrite(url), *args, **kwargs)
        self._local.headers = dict(response.headers or {})
        return response

    def last_headers(self) -> Mapping[str, str]:
        """Headers of the last response this thread received (case-insensitive)."""
        headers = getattr(self._local, "headers", {})
        return {k.lower(): v for k, v in headers.items()}


@dataclass(frozen=True)
class SmsSettings(ChannelSettings):
    """The SMS channel's settings: ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN`` (or
    ``TWILIO_AUTH_TOKEN_FILE``), ``TWILIO_FROM``, ``FOLLOWUP_TWILIO_API_BASE``,
    ``FOLLOWUP_TWILIO_STATUS_CALLBACK`` and ``FOLLOWUP_TWILIO_TIMEOUT``. Each variable
    wins over the same key of the settings mapping (``account_sid``, ``from_number``,
    ``api_base``, ``status_callback``, ``timeout``); the auth token only comes from the
    environment."""

    kind: ClassVar[str] = "sms"
    # Its environment variables: once one is set, SMS is meant to be used.
    ENVIRONMENT: ClassVar[tuple[str, ...]] = (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM",
        "FOLLOWUP_TWILIO_API_BASE",
        "FOLLOWUP_TWILIO_STATUS_CALLBACK",
        "FOLLOWUP_TWILIO_TIMEOUT",
    )
    SECRETS: ClassVar[tuple[str, ...]] = ("TWILIO_AUTH_TOKEN",)
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"account_sid", "from_number", "api_base", "status_callback", "timeout"}
    )

    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str
    api_base: str | None = None
    status_callback: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None, config: Mapping[str, object] | None
    ) -> SmsSettings:
        s = Reader(cls.kind, config, environ, allowed_keys=cls.KEYS, variables=cls.ENVIRONMENT)
        account_sid = s.text(
            "TWILIO_ACCOUNT_SID", "account_sid", required=True, what="a Twilio account SID"
        )
        auth_token = s.secret("TWILIO_AUTH_TOKEN")
        if not auth_token:
            raise s.missing(
                "TWILIO_AUTH_TOKEN",
                "the Twilio auth token",
                "Set TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE) in the environment.",
            )
        from_number = s.text(
            "TWILIO_FROM", "from_number", required=True, what="a sender number or ID"
        )
        api_base = s.text("FOLLOWUP_TWILIO_API_BASE", "api_base")
        if api_base and urlsplit(api_base).scheme not in ("http", "https"):
            raise ValueError(
                f"FOLLOWUP_TWILIO_API_BASE must be an http(s) URL, e.g. {TWILIO_API_BASE}"
            )
        status_callback = s.text("FOLLOWUP_TWILIO_STATUS_CALLBACK", "status_callback")
        timeout = s.number("FOLLOWUP_TWILIO_TIMEOUT", "timeout", default=10.0)
        assert account_sid is not None and from_number is not None
        return cls(
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=from_number,
            api_base=api_base,
            status_callback=status_callback,
            timeout=timeout,
        )

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str]) -> Mapping[str, object]:
        """config.toml's [channels.sms] keys (``sender`` is the sending number), and
        delivery reports posted to the web app's /twilio/status."""
        table = config.channels.sms
        return {
            "from_number": table.sender,
            "api_base": table.api_base,
            "status_callback": config.web.base_url.rstrip("/") + STATUS_CALLBACK_PATH,
        }

    @staticmethod
    def auth_token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
        """The auth token alone (to check Twilio's signature on a webhook), or None."""
        try:
            return Reader(SmsSettings.kind, None, environ, frozenset()).secret("TWILIO_AUTH_TOKEN")
        except ValueError:
            return None


class SmsChannel(Channel):
    """Sends SMS through Twilio's Messages API."""

    kind: ClassVar[str] = "sms"
    Settings: ClassVar[type[ChannelSettings]] = SmsSettings

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        status_callback: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        for name, value in (
            ("TWILIO_ACCOUNT_SID", account_sid),
            ("TWILIO_AUTH_TOKEN", auth_token),
            ("TWILIO_FROM", from_number),
        ):
            if not value:
                raise ValueError(f"{name} is not set: the sms channel needs it")
        if api_base and urlsplit(api_base).scheme not in ("http", "https"):
            raise ValueError(
                f"FOLLOWUP_TWILIO_API_BASE must be an http(s) URL, e.g. {TWILIO_API_BASE}"
            )
        self.account_sid = account_sid
        self.from_number = from_number
        self.api_base = api_base or TWILIO_API_BASE
        self.status_callback = status_callback
        self._http = _ApiBaseHttpClient(api_base, timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)

    def __repr__(self) -> str:
        return f"SmsChannel(account_sid={self.account_sid!r}, api_base={self.api_base!r})"

    def describe(self) -> str:
        return f"sms via {self.api_base}"

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> SmsChannel:
        assert isinstance(settings, SmsSettings)
        return cls(
            settings.account_sid,
            settings.auth_token,
            settings.from_number,
            api_base=settings.api_base,
            status_callback=settings.status_callback,
            timeout=settings.timeout,
        )

    def send(self, message: OutgoingMessage) -> Delivery:
        optional: dict[str, Any] = {}
        if self.status_callback:
            optional["status_callback"] = self.status_callback
        try:
            sent = self._client.messages.create(
                to=message.to, from_=self.from_number, body=to_gsm7(message.text), **optional
            )
        except (TwilioRestException, TwilioServiceException) as e:
            raise self._sort(e.status, e.code) from None
        except (requests.Timeout, requests.ConnectionError) as e:
            # Past the connect phase the request may have reached Twilio: the retry asks
            # Twilio first (maybe_sent) instead of sending a second copy.
            arrived = _may_have_arrived(e)
            if isinstance(e, requests.Timeout) and arrived:
                raise TransportError(
                    "Twilio timed out", permanent=False, code="timeout", maybe_sent=True
                ) from None
            raise TransportError(
                "Twilio unreachable (connection failed)",
                permanent=False,
                code="connection",
                maybe_sent=arrived,
            ) from None
        except (requests.RequestException, TwilioException, ValueError) as e:
            # A reply that is not Twilio's JSON (a proxy's error page) lands here.
            raise TransportError(
                f"Unexpected reply from Twilio ({type(e).__name__})",
                permanent=False,
                code="protocol",
                maybe_sent=True,
            ) from None
        return Delivery(provider_id=sent.sid, status=sent.status or "queued")

    def find_sent(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The SID of a message with this text that Twilio already accepted for this
        recipient since ``since``, or None.

        A sender that died between handing a message to Twilio and recording it leaves
        the message in doubt; asking before sending it again keeps a crash from turning
        into a duplicate. Raises :class:`TransportError` when Twilio cannot be asked.
        """
        body = to_gsm7(message.text)
        try:
            # Newest first: stop at the first one older than `since`.
            for sent in self._client.messages.stream(
                to=message.to, from_=self.from_number, page_size=50
            ):
                if sent.date_created is not None and sent.date_created < since:
                    return None
                if sent.body == body:
                    return sent.sid
        except (TwilioRestException, TwilioServiceException) as e:
            raise self._sort(e.status, e.code) from None
        except (requests.RequestException, TwilioException, ValueError) as e:
            raise TransportError(
                f"Twilio could not be asked about an earlier send ({type(e).__name__})",
                permanent=False,
                code="lookup",
            ) from None
        return None

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()

    def _sort(self, status: int, code: int | None) -> TransportError:
        """HTTP status and Twilio error code → retry-later or permanent, in domain words."""
        code_text = str(code) if code is not None else str(status)
        if status == 429 or code == 20429:
            return TransportError(
                twilio_error_meaning(20429),
                permanent=False,
                code=code_text,
                retry_after=_retry_after(self._http.last_headers().get("retry-after")),
            )
        if status >= 500:
            return TransportError(
                f"Twilio is unavailable (HTTP {status})",
                permanent=False,
                code=code_text,
                retry_after=_retry_after(self._http.last_headers().get("retry-after")),
                # 503: Twilio turned the request away. A 500 or a gateway's 502/504 may
                # come after the message was accepted.
                maybe_sent=status != 503,
            )
        if status in (401, 404) or code in (20003, 20404):
            # Wrong credentials, account or base URL are the deployment's fault, not the
            # message's: keep it and try again once the settings are fixed.
            meaning = twilio_error_meaning(20404 if status == 404 or code == 20404 else 20003)
            return TransportError(meaning, permanent=False, code=code_text)
        if 400 <= status < 500:
            meaning = (
                twilio_error_meaning(code)
                if code is not None and code != status
                else f"Twilio refused the message (HTTP {status})"
            )
            return TransportError(meaning, permanent=True, code=code_text)
        return TransportError(
            f"Unexpected reply from Twilio (HTTP {status})", permanent=False, code=code_text
        )


def _may_have_arrived(error: requests.RequestException) -> bool:
    """False only when the connection was never made (refused, no route, DNS, connect
    timeout): then Twilio cannot have the message. Anything later may have delivered it."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return not isinstance(reason, NewConnectionError | ConnectTimeoutError)
