"""config.toml: the deployment, loaded once and validated strictly.

Unknown keys are refused (a misspelt key silently ignored is a reminder never sent),
and every error names the file, the key path, what was expected and a hint. Every key
is documented in docs/configuration.md; tests/test_config_docs.py fails when one is not.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from followup.tomlfile import read_toml, validate

LANGUAGES = ("en", "sr-Latn", "sq")
CHANNELS = ("console", "email", "sms")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_CONFIG = "config.toml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(Strict):
    url: str = Field(
        "sqlite:///followup.db",
        description='an SQLAlchemy URL: "sqlite:///followup.db" (relative to config.toml) '
        'or "postgresql+psycopg://user@host/dbname"',
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("only SQLite and PostgreSQL are supported")
        return url


class SecurityConfig(Strict):
    key_file: str = Field(
        "followup.key",
        description="file holding the key that encrypts partner data (created by "
        "`followup init`, mode 0600); $FOLLOWUP_SECRET_KEY takes precedence",
    )


class ProtocolsConfig(Strict):
    directory: str = Field(
        "schedules", description="folder of protocol files, relative to config.toml"
    )
    active: list[str] = Field(
        default_factory=lambda: ["undp-serbia"],
        min_length=1,
        description='protocol ids (file names without .toml) that new enrolments may use, e.g. ["undp-serbia"]',
    )
    default: str | None = Field(
        None, description="protocol for enrolments that name none; defaults to the first active one"
    )

    @model_validator(mode="after")
    def _default_is_active(self) -> ProtocolsConfig:
        if self.default is not None and self.default not in self.active:
            raise ValueError(f'default protocol "{self.default}" is not in protocols.active')
        return self

    @property
    def default_id(self) -> str:
        return self.default or self.active[0]


class SiteConfig(Strict):
    name: str = Field(description='the centre\'s name, e.g. "Centre for Social Work Belgrade"')
    timezone: str = Field(description='an IANA time zone such as "Europe/Belgrade"')
    language: str = Field("en", description=f"one of {', '.join(LANGUAGES)}")
    holidays: list[date] = Field(
        default_factory=list, description="dates (YYYY-MM-DD) with no daily digest at this site"
    )

    @field_validator("timezone")
    @classmethod
    def _iana(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone") from None
        return name

    @field_validator("language")
    @classmethod
    def _supported(cls, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError("unsupported language")
        return language

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class QuietHours(Strict):
    start: time = Field(time(20, 0), description='local time quiet hours begin, "HH:MM"')
    end: time = Field(time(8, 0), description='local time quiet hours end, "HH:MM"')


class RemindersConfig(Strict):
    lead_days: list[int] = Field(
        default_factory=lambda: [7, 0],
        description="days before a follow-up's due date to remind its worker; 0 is the due day",
    )
    digest_time: time = Field(
        time(8, 0), description='local time of each staff member\'s daily digest, "HH:MM"'
    )
    digest_days: int = Field(
        7,
        ge=0,
        le=90,
        description="a digest lists what falls due in the next N days (and all that is due or overdue)",
    )
    working_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"],
        description='days digests go out, e.g. ["mon", "tue", "wed", "thu", "fri"]',
    )
    quiet_hours: QuietHours = Field(
        default_factory=QuietHours, description="no reminder is sent in these local hours"
    )
    escalate_after_days: int = Field(
        1,
        ge=0,
        description="days after a window closes without an interview before the supervisor is told",
    )
    catch_up_after_minutes: int = Field(
        60,
        ge=1,
        description="reminders this late (after downtime) are folded into one catch-up digest per person",
    )
    partner_lead_minutes: int = Field(
        30,
        ge=0,
        le=720,
        description="a partner follow-up's due-day reminder goes this many minutes before "
        "her first safe window that day (never in the quiet hours)",
    )

    @field_validator("lead_days")
    @classmethod
    def _non_negative(cls, days: list[int]) -> list[int]:
        if any(day < 0 for day in days):
            raise ValueError("lead days count days before the due date, so they are 0 or more")
        return sorted(set(days), reverse=True)


class EmailConfig(Strict):
    """[channels.email]: read by the e-mail channel (followup/channels/email.py), which
    fills in what the table leaves out and lets its FOLLOWUP_SMTP_* variables win."""

    host: str | None = Field(
        None, description='SMTP host, default "localhost"; $FOLLOWUP_SMTP_HOST wins'
    )
    port: int | None = Field(
        None,
        description="SMTP port, default 25 (587 with STARTTLS, 465 with SSL); "
        "$FOLLOWUP_SMTP_PORT wins",
    )
    sender: str | None = Field(
        None, description='From address, default "followup@localhost"; $FOLLOWUP_SMTP_FROM wins'
    )
    starttls: bool | None = Field(
        None, description="use STARTTLS, default false; $FOLLOWUP_SMTP_STARTTLS wins"
    )


class SmsConfig(Strict):
    """[channels.sms]: read by the SMS channel (followup/channels/sms.py)."""

    sender: str | None = Field(None, description="sending number (E.164); $TWILIO_FROM wins")
    api_base: str | None = Field(
        None, description="Twilio-compatible base URL; $FOLLOWUP_TWILIO_API_BASE wins"
    )


class ChannelsConfig(Strict):
    default: Literal["console", "email", "sms"] = Field(
        "console", description="channel for staff who name none: console, email or sms"
    )
    fallback: Literal["console", "email", "sms"] = Field(
        "email", description="channel used when a staff member's own channel fails permanently"
    )
    fallback_after_minutes: int = Field(
        30,
        ge=1,
        le=24 * 60,
        description="minutes of failures on a message's own channel before it goes by the "
        "fallback channel",
    )
    in_doubt_resend_after_minutes: int = Field(
        60,
        ge=0,
        le=7 * 24 * 60,
        description="minutes an interrupted text waits for Twilio to say whether it arrived "
        "before it is sent again without an answer",
    )
    email: EmailConfig = Field(default_factory=EmailConfig, description="the SMTP channel")
    sms: SmsConfig = Field(default_factory=SmsConfig, description="the Twilio SMS channel")


class DispatchConfig(Strict):
    interval_seconds: int = Field(60, ge=1, description="seconds between dispatch passes")
    lease_seconds: int = Field(
        120,
        ge=5,
        description="how long a claimed message is reserved before another sender may retry it",
    )
    batch_size: int = Field(100, ge=1, description="messages claimed per pass")
    templates: str = Field(
        "messages",
        description="folder of message templates, relative to config.toml; a template "
        "missing there comes from the shipped set",
    )

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "max_attempts" in data:
            raise ValueError(
                "max_attempts was removed: a message is now retried for as long as it is "
                "worth sending, and goes by channels.fallback after "
                "channels.fallback_after_minutes; delete the key"
            )
        return data


class AnalysisConfig(Strict):
    indicators: str = Field(
        "analysis/indicators.toml", description="indicator definitions, relative to config.toml"
    )
    suppression_threshold: int = Field(
        5, ge=1, description="counts below this are suppressed in everything evaluators see"
    )
    completion_target: float = Field(0.8, gt=0, le=1, description="target completion rate, 0-1")


class PartnerConfig(Strict):
    reconfirm_plan_days: int = Field(
        90,
        ge=1,
        description="days after which her safe-contact plan is flagged for re-confirming with her",
    )


def _ip_network(text: str) -> str:
    """An address ("10.0.0.5", "::1") or a network ("10.0.0.0/8") as its network."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise ValueError("not an IP address or network") from None


class WebConfig(Strict):
    host: str = Field("127.0.0.1", description="address `followup serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `followup serve` listens on")
    base_url: str = Field(
        "http://127.0.0.1:8000", description="public URL of the web app, used in message links"
    )
    session_idle_minutes: int = Field(
        60, ge=1, description="a web session ends after this many minutes without a request"
    )
    session_hours: int = Field(
        12,
        ge=1,
        le=168,
        description="a web session ends this many hours after login, in use or not",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="failed logins for one user name, within login_window_minutes, before it is refused",
    )
    login_ip_max_failures: int = Field(
        30,
        ge=1,
        description="failed logins from one address, within login_window_minutes, before it is refused",
    )
    login_window_minutes: int = Field(
        15, ge=1, description="how long failed logins count against a user name or an address"
    )
    invite_days: int = Field(
        7, ge=1, le=60, description="days an invite or password-reset link stays valid"
    )
    trusted_proxies: list[Annotated[str, AfterValidator(_ip_network)]] = Field(
        default_factory=list,
        description='addresses or networks of your reverse proxies, e.g. ["127.0.0.1", '
        '"10.0.0.0/8"]: only a request from one of them may say, in X-Forwarded-For, whose '
        "request it passes on",
    )


class Config(Strict):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="where data lives")
    security: SecurityConfig = Field(default_factory=SecurityConfig, description="encryption key")
    protocols: ProtocolsConfig = Field(
        default_factory=ProtocolsConfig, description="follow-up protocols"
    )
    sites: dict[str, SiteConfig] = Field(
        min_length=1, description="one [sites.CODE] table per centre, e.g. [sites.BG]"
    )
    reminders: RemindersConfig = Field(
        default_factory=RemindersConfig, description="reminder policy"
    )
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig, description="message channels")
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig, description="the sender")
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig, description="statistics")
    partner: PartnerConfig = Field(
        default_factory=PartnerConfig, description="work with partners (survivors)"
    )
    web: WebConfig = Field(default_factory=WebConfig, description="the web app")

    # Set by load(); not a key in the file.
    path: Path = Field(default=Path(DEFAULT_CONFIG), exclude=True)

    @field_validator("sites")
    @classmethod
    def _site_codes(cls, sites: dict[str, SiteConfig]) -> dict[str, SiteConfig]:
        for code in sites:
            if not code.isalnum() or len(code) > 16:
                raise ValueError(f'site code "{code}" must be letters and digits, at most 16')
        return sites

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def database_url(self) -> str:
        """The URL with a relative SQLite path made relative to config.toml, not the cwd."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str(self.resolve(rest))
        return url


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get("FOLLOWUP_CONFIG") or DEFAULT_CONFIG)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    where = config_path(path)
    data: dict[str, Any] = read_toml(where)
    config = validate(Config, data, where)
    return config.model_copy(update={"path": where})
