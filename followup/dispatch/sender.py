"""Sending: claim due messages, check them once more, render, send, settle.

One message at a time between claim and settle, so a stop request (SIGTERM) finishes
the message in hand and hands the rest of the claimed batch back at once. A provider
that is having trouble is tried again later, with exponential backoff and jitter (never
sooner than its Retry-After); a permanent refusal (invalid number, opted out, address
rejected) flags the staff member's channel, tells the site supervisors and re-sends the
message by the next channel. What to do after a failure is decided by the pure functions
of followup/dispatch/failure.py; this module only records their decisions. Log lines and
`last_error` name the outbox key and the provider's meaning, never an address or a
message body.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.audit import audit
from followup.channels import (
    CHANNEL_KINDS,
    Channel,
    LookupNotSupported,
    OutgoingMessage,
    TransportError,
    channel_class,
)
from followup.channels._settings import NotSetUp
from followup.channels.console import ConsoleChannel
from followup.config import Config
from followup.context import Context
from followup.db import transaction
from followup.dispatch import outbox
from followup.dispatch.content import Broken, ContentBuilder, Gone, Ready
from followup.dispatch.failure import (
    RETRY_CAP_SECONDS,
    Decision,
    Failure,
    Notice,
    Outcome,
    Rules,
    backoff_delay,
    by_fallback,
    decide,
    refusal,
    still_in_doubt,
)
from followup.dispatch.outbox import Message, enqueue
from followup.dispatch.policy import Policy, site_zone
from followup.dispatch.render import Templates
from followup.dispatch.routing import (
    address,
    candidates,
    problem_channel,
    problem_text,
    supervisors,
)
from followup.dispatch.timing import in_quiet_hours, out_of_quiet_hours
from followup.errors import ConfigError
from followup.models import FollowUp, Staff
from followup.schedule import PENDING as FOLLOWUP_PENDING

log = logging.getLogger("followup.dispatch")

PARTS_FOR = {"sms": ("sms",), "email": ("subject", "text", "html"), "console": ("subject", "text")}


# Built once: this runs before every single send.
_STILL_WANTED = (
    sa.select(
        outbox.OB.c.status,
        outbox.OB.c.claimed_by,
        outbox.OB.c.lease_until,
        FollowUp.status.label("followup_status"),
        Staff.channel_problem,
    )
    .select_from(
        outbox.OB.join(Staff, Staff.id == outbox.OB.c.staff_id).outerjoin(
            FollowUp, FollowUp.id == outbox.OB.c.followup_id
        )
    )
    .where(outbox.OB.c.id == sa.bindparam("row_id"))
)


def backoff(
    attempts: int, retry_after: float | None, rng: random.Random, *, cap: float = RETRY_CAP_SECONDS
) -> timedelta:
    """The backoff for one more attempt, its jitter drawn from `rng` (see
    failure.backoff_delay)."""
    return backoff_delay(attempts, retry_after, rng.random(), cap=cap)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ChannelSet:
    """The channels this deployment can use, built once per process.

    The console is always there; every other channel is there when its own settings say
    it is set up (each channel reads its config.toml keys and its environment variables
    itself). A message for a channel that is not set up goes by the next one (the
    fallback channel, then the console), so nothing waits for a setting.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        environ: Mapping[str, str] | None = None,
        channels: Mapping[str, Channel] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.channels: dict[str, Channel] = {}
        self.missing: dict[str, str] = {}
        for kind in CHANNEL_KINDS:
            if kind != "console":
                self._try(kind, ctx.config, env)
        for kind, channel in (channels or {}).items():  # given ones (tests, benchmarks) win
            self.channels[kind] = channel
            self.missing.pop(kind, None)
        self.channels.setdefault("console", ConsoleChannel())

    def _try(self, kind: str, config: Config, env: Mapping[str, str]) -> None:
        """Build a channel. One whose settings are all absent is not set up (its messages
        go by the next channel); one whose settings are given but wrong stops the start
        with one line, instead of quietly sending its messages to the console."""
        cls = channel_class(kind)
        try:
            self.channels[kind] = cls.from_env(cls.Settings.from_config(config, env), environ=env)
        except NotSetUp as problem:
            self.missing[kind] = str(problem)
        except ValueError as problem:
            raise _misconfigured(kind, problem) from None

    @property
    def available(self) -> frozenset[str]:
        return frozenset(self.channels)

    def describe(self) -> str:
        return ", ".join(channel.describe() for channel in self.channels.values())

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()


def _misconfigured(kind: str, problem: ValueError) -> ConfigError:
    reason = str(problem).rstrip(". ")
    return ConfigError(
        f"the {kind} channel's settings are wrong: {reason}. "
        "Hint: correct or unset them; nothing is sent until they are right"
    )


def check_channel_settings(ctx: Context, environ: Mapping[str, str] | None = None) -> None:
    """Refuse channel settings that do not parse, for a process that sends nothing itself
    (`serve --no-scheduler`), so every entry point fails the same way."""
    ChannelSet(ctx, environ=environ).close()


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0  # refused for good on one channel (re-sent by the next)
    dead: int = 0  # given up: failing until it was no longer worth sending
    cancelled: int = 0
    recovered: int = 0  # in doubt after a crash, found already sent
    postponed: int = 0  # due, but the recipient's quiet hours had begun
    in_doubt: int = 0  # interrupted before, the provider could not be asked: held
    keys: list[str] = field(default_factory=list)

    def add(self, other: SendResult) -> None:
        for name in (
            "sent",
            "retrying",
            "failed",
            "dead",
            "cancelled",
            "recovered",
            "postponed",
            "in_doubt",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.keys.extend(other.keys)

    def summary(self) -> str:
        recovered = (
            f" ({self.recovered} found already sent after a crash)" if self.recovered else ""
        )
        return (
            f"sent {self.sent}{recovered}, retrying {self.retrying}, refused {self.failed}, "
            f"given up {self.dead}, cancelled {self.cancelled}"
            + (f", held in doubt {self.in_doubt}" if self.in_doubt else "")
        )


class Sender:
    def __init__(
        self,
        ctx: Context,
        channels: ChannelSet,
        templates: Templates | None = None,
        *,
        worker: str | None = None,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.channels = channels
        self.templates = templates or Templates(ctx.config.resolve(ctx.config.dispatch.templates))
        self.worker = worker or worker_name()
        self.stop = stop or threading.Event()
        self.rng = rng or random.Random()
        self.policy = Policy.from_config(ctx.config)

    def send_due(
        self, clock: Callable[[], datetime], *, max_batches: int | None = None
    ) -> SendResult:
        """Send everything due, batch after batch, until nothing is due or stop is set."""
        result = SendResult()
        batches = 0
        while not self.stop.is_set() and (max_batches is None or batches < max_batches):
            now = clock()
            ids = outbox.claim(
                self.ctx.engine,
                self.worker,
                now,
                limit=self.ctx.config.dispatch.batch_size,
                lease_seconds=self.ctx.config.dispatch.lease_seconds,
            )
            if not ids:
                break
            batches += 1
            self.send_claimed(ids, clock, claimed_at=now, result=result)
        return result

    def send_claimed(
        self,
        ids: list[int],
        clock: Callable[[], datetime],
        *,
        claimed_at: datetime,
        result: SendResult | None = None,
    ) -> SendResult:
        """Send rows this sender has claimed, one at a time; hand back what it did not reach."""
        result = result if result is not None else SendResult()
        # Start a send only while at least half the lease remains: a slow batch must
        # not run into a lease that another instance may already have taken over.
        last_start = claimed_at + timedelta(seconds=self.ctx.config.dispatch.lease_seconds / 2)
        with Session(self.ctx.engine) as session:
            prepared = ContentBuilder(session, self.ctx, self.templates, claimed_at).prepare(ids)
        done: set[int] = set()
        for item in prepared:
            moment = clock()
            if self.stop.is_set() or moment > last_start:
                break
            self._one(item, moment, result)
            done.add(item.id)
        leftover = [i for i in ids if i not in done]
        if leftover:  # handed back at once, for this or another sender
            outbox.release(self.ctx.engine, self.worker, leftover, clock())
        return result

    # --- one message ------------------------------------------------------------------

    def _one(self, item: Ready | Gone | Broken, now: datetime, result: SendResult) -> None:
        if isinstance(item, Gone):
            self._cancel(item.id, item.reason, now, result)
            return
        if isinstance(item, Broken):
            self._failed(
                item,
                item.staff.channel or "console",
                [],
                TransportError(item.error, permanent=False, code="internal"),
                now,
                result,
            )
            return
        reason, problem = self._no_longer_wanted(item, now)
        if reason is not None:
            if reason != "settled":
                self._cancel(item.id, reason, now, result)
            return
        if item.kind != "alert" and self._quiet_now(item, now, result):
            return
        # A channel flagged since the batch was read (by the message before) counts now.
        item = replace(item, staff=replace(item.staff, channel_problem=problem))
        route = candidates(
            item.kind,
            item.channel,
            item.attempts,
            item.staff,
            self.channels.available,
            self.ctx.config.channels.fallback,
        )
        if item.in_doubt and self._resolve_doubt(item, route, now, result):
            return
        route = self._after_trouble(item, route, now)
        kind = route[0]
        try:
            message = self._message(item, kind)
        except TransportError as error:
            self._failed(item, kind, route, error, now, result)
            return
        try:
            delivery = self.channels.channels[kind].send(message)
        except TransportError as error:
            self._failed(item, kind, route, error, now, result)
            return
        with transaction(self.ctx.engine) as session:
            outbox.mark_sent(
                session.connection(),
                item.id,
                self.worker,
                channel=kind,
                provider_id=delivery.provider_id,
                now=now,
            )
            self._clear_stale_problem(session, item.staff)
        result.sent += 1
        result.keys.append(item.key)

    def _message(self, item: Ready, kind: str) -> OutgoingMessage:
        to = address(item.staff, kind)
        if to is None:
            raise TransportError(f"No {kind} address on file", permanent=True, code="no-address")
        try:
            rendered = self.templates.render(item.kind, item.language, item.data, PARTS_FOR[kind])
        except jinja2.TemplateError as error:
            # A broken template is the deployment's to fix; keep the message meanwhile.
            raise TransportError(
                f"Message template error ({type(error).__name__})", permanent=False, code="template"
            ) from None
        return OutgoingMessage(
            key=item.key,
            to=to,
            subject=rendered.subject or "",
            text=rendered.sms if kind == "sms" else rendered.text,
            html=rendered.html,
        )

    def _no_longer_wanted(self, item: Ready, now: datetime) -> tuple[str | None, str | None]:
        """Right before sending: is it still ours to send, and still about a pending
        follow-up? Also returns the recipient's channel problem as it is now."""
        with self.ctx.engine.connect() as conn:
            found = conn.execute(_STILL_WANTED, {"row_id": item.id}).first()
        if found is None or found.status != outbox.PENDING:
            return "settled", None
        if found.claimed_by != self.worker or found.lease_until is None or found.lease_until <= now:
            return "settled", None  # our lease ran out and another sender has it
        if item.followup_id is not None and found.followup_status != FOLLOWUP_PENDING:
            return f"follow-up {found.followup_status}", None
        return None, found.channel_problem

    def _quiet_now(self, item: Ready, now: datetime, result: SendResult) -> bool:
        """Checked when sending, not only when queueing: a pass late in the repeated hour
        of the night the clocks go back, or a retry, must not send in the quiet hours."""
        zone = site_zone(self.ctx.config, item.staff.site_code)
        if not in_quiet_hours(now, zone, self.policy.quiet):
            return False
        with transaction(self.ctx.engine) as session:
            if outbox.postpone(
                session.connection(),
                item.id,
                self.worker,
                until=out_of_quiet_hours(now, zone, self.policy.quiet),
                now=now,
            ):
                result.postponed += 1
        return True

    def _resolve_doubt(
        self, item: Ready, route: list[str], now: datetime, result: SendResult
    ) -> bool:
        """A message whose last send was interrupted (a crash, a lost reply) may have
        reached the provider: ask before sending it again, where the channel can be asked.
        True when this message is settled for now: found sent, or held in doubt because
        the provider could not be asked."""
        kind = route[0]
        channel = self.channels.channels[kind]
        try:
            message = self._message(item, kind)
        except TransportError as error:
            self._failed(item, kind, route, error, now, result)
            return True
        try:
            sid = channel.find_sent(message, item.not_before - timedelta(minutes=5))
        except LookupNotSupported:
            return False  # the channel can never tell (e-mail, console): send it again
        except TransportError as error:
            problem = error.message
        else:
            if sid is None:
                return False  # the provider says it is not there: send it
            with transaction(self.ctx.engine) as session:
                outbox.mark_sent(
                    session.connection(),
                    item.id,
                    self.worker,
                    channel=kind,
                    provider_id=sid,
                    now=now,
                )
            result.recovered += 1
            result.sent += 1
            result.keys.append(item.key)
            return True
        # No answer from the provider.
        decision = still_in_doubt(
            item.kind, item.attempts, item.in_doubt_since, self._rules(item), now, self.rng.random()
        )
        if decision.outcome is Outcome.SEND:
            log.warning(
                "outbox %s: still in doubt since %s (%s); sending again",
                item.key,
                (item.in_doubt_since or now).isoformat(),
                problem,
            )
            return False
        assert decision.at is not None
        with transaction(self.ctx.engine) as session:
            if outbox.mark_retry(
                session.connection(),
                item.id,
                self.worker,
                error=f"{kind}: in doubt, not sent again yet: {problem} [lookup]",
                next_attempt_at=decision.at,
                now=now,
                maybe_sent=True,
            ):
                result.in_doubt += 1
        return True

    def _after_trouble(self, item: Ready, route: list[str], now: datetime) -> list[str]:
        """After channels.fallback_after_minutes of failures on its own channel, a message
        goes by the fallback channel, and the supervisors hear of it (failure.by_fallback)."""
        route, notice = by_fallback(
            item.kind,
            item.failing_since,
            route,
            self.ctx.config.channels.fallback,
            self._rules(item),
            now,
        )
        if notice is Notice.ALWAYS:
            with transaction(self.ctx.engine) as session:
                tell_supervisors(session, self.ctx, item.staff, now)
        return route

    def _rules(self, item: Ready | Broken) -> Rules:
        channels = self.ctx.config.channels
        return Rules(
            fallback_after=timedelta(minutes=channels.fallback_after_minutes),
            in_doubt_resend_after=timedelta(minutes=channels.in_doubt_resend_after_minutes),
            zone=site_zone(self.ctx.config, item.staff.site_code),
            quiet=self.policy.quiet,
        )

    def _cancel(self, row_id: int, reason: str, now: datetime, result: SendResult) -> None:
        with transaction(self.ctx.engine) as session:
            if outbox.mark_final(
                session.connection(),
                row_id,
                self.worker,
                status=outbox.CANCELLED,
                error=reason,
                now=now,
            ):
                result.cancelled += 1

    # --- failures ---------------------------------------------------------------------

    def _failed(
        self,
        item: Ready | Broken,
        kind: str,
        route: list[str],
        error: TransportError,
        now: datetime,
        result: SendResult,
    ) -> None:
        """Decide (failure.decide, pure) and record the decision in one transaction."""
        text = f"{kind}: {error.message}" + (f" [{error.code}]" if error.code else "")
        log.warning(
            "outbox %s: %s (attempt %d, %s)",
            item.key,
            text,
            item.attempts,
            "permanent" if error.permanent else "will retry",
        )
        failure = Failure(
            kind=item.kind,
            channel=kind,
            route=tuple(route),
            attempts=item.attempts,
            permanent=error.permanent,
            code=error.code,
            retry_after=error.retry_after,
            maybe_sent=error.maybe_sent,
            failing_since=item.failing_since,
            useful_until=item.useful_until,
        )
        decision = decide(failure, self._rules(item), now, self.rng.random())
        with transaction(self.ctx.engine) as session:
            self._record(session, item, kind, text, decision, error, now, result)

    def _record(
        self,
        session: Session,
        item: Ready | Broken,
        kind: str,
        text: str,
        decision: Decision,
        error: TransportError,
        now: datetime,
        result: SendResult,
    ) -> None:
        conn = session.connection()
        if decision.outcome is Outcome.REFUSED:
            if not outbox.mark_final(
                conn, item.id, self.worker, status=outbox.FAILED, error=text, now=now, channel=kind
            ):
                return
            result.failed += 1
            assert decision.next_channel is not None
            fall_back(
                session,
                self.ctx,
                item.key,
                item.staff,
                kind,
                decision.next_channel,
                error,
                now,
                attempts=item.attempts,
            )
        elif decision.outcome is Outcome.GIVEN_UP:
            # Failing until it was no longer worth sending: given up, supervisors told.
            if outbox.mark_final(
                conn, item.id, self.worker, status=outbox.DEAD, error=text, now=now
            ):
                result.dead += 1
                if decision.notice is Notice.ALWAYS:
                    tell_supervisors(session, self.ctx, item.staff, now)
        else:
            assert decision.at is not None
            if outbox.mark_retry(
                conn,
                item.id,
                self.worker,
                error=text,
                next_attempt_at=decision.at,
                now=now,
                maybe_sent=decision.in_doubt,
            ):
                result.retrying += 1

    def _clear_stale_problem(self, session: Session, staff) -> None:
        """The address that failed has been corrected: forget the old problem."""
        if staff.channel_problem and problem_channel(staff) is None:
            session.execute(
                sa.update(Staff)
                .where(Staff.id == staff.id, Staff.channel_problem == staff.channel_problem)
                .values(channel_problem=None)
            )


def fall_back(
    session: Session,
    ctx: Context,
    key: str,
    staff,
    failed_channel: str,
    next_channel: str,
    error: TransportError,
    now: datetime,
    *,
    attempts: int,
) -> None:
    """A permanent refusal of the message with this key: flag the channel when the
    address was at fault, tell the site supervisors, and queue the same message again
    by the next channel (the sender re-routes it if that one is not set up)."""
    row = session.execute(sa.select(outbox.OB).where(outbox.OB.c.key == key)).one()
    decision = refusal(row.kind, failed_channel, next_channel, error.code)
    flagged = decision.flag_channel and flag(
        session, ctx, staff, failed_channel, error.message, now
    )
    enqueue(
        session,
        [
            Message(
                key=f"{key}:after-{failed_channel}",
                kind=row.kind,
                staff_id=staff.id,
                channel=next_channel,
                not_before=now,
                followup_id=row.followup_id,
                alert_id=row.alert_id,
                payload=outbox.payload_of(row),
            )
        ],
        now=now,
    )
    # Tell them once per problem: a flagged channel is news once; any other refusal
    # (the deployment's sender number, say) every time.
    if decision.notice is Notice.ALWAYS or (decision.notice is Notice.IF_NEWLY_FLAGGED and flagged):
        tell_supervisors(session, ctx, staff, now)


def flag(session: Session, ctx: Context, staff, channel: str, meaning: str, now: datetime) -> bool:
    """Set Staff.channel_problem; True when it is news (not flagged for this already).
    Reads the flag as it is now, under a row lock, so two senders never both call it news."""
    current = session.execute(
        sa.select(Staff.channel_problem).where(Staff.id == staff.id).with_for_update()
    ).scalar_one()
    if problem_channel(replace(staff, channel_problem=current)) == channel:
        return False
    zone = site_zone(ctx.config, staff.site_code)
    text = problem_text(channel, staff, meaning, now.astimezone(zone).date())
    session.execute(sa.update(Staff).where(Staff.id == staff.id).values(channel_problem=text))
    audit(
        session,
        "dispatcher",
        "channel_problem",
        "staff",
        staff.staff_id,
        channel=channel,
        reason=meaning,
    )
    return True


NOTICE_EVERY = timedelta(hours=1)


def tell_supervisors(session: Session, ctx: Context, staff, now: datetime) -> None:
    """Queue a delivery-problem digest for the supervisors of the staff member's site: at
    most one an hour each, after the quiet hours. It is written when it is sent, listing
    everything affected then, so a notice already waiting is enough."""
    quiet = Policy.from_config(ctx.config).quiet
    zone = site_zone(ctx.config, staff.site_code)
    at = out_of_quiet_hours(now, zone, quiet)
    messages = []
    for person in supervisors(session, staff.site_code):
        last = session.execute(
            sa.select(outbox.OB.c.status, outbox.OB.c.not_before)
            .where(outbox.OB.c.kind == "delivery_problem", outbox.OB.c.staff_id == person.id)
            .order_by(outbox.OB.c.not_before.desc())
            .limit(1)
        ).first()
        if last is not None and last.status == outbox.PENDING:
            continue  # the notice to come will list this too
        when = at
        if last is not None and last.not_before + NOTICE_EVERY > when:
            when = out_of_quiet_hours(last.not_before + NOTICE_EVERY, zone, quiet)
        # One key per supervisor and hour: two senders telling at once queue it once.
        hour = when.replace(minute=0, second=0, microsecond=0)
        messages.append(
            Message(
                key=f"delivery_problem:{person.id}:{hour.isoformat()}",
                kind="delivery_problem",
                staff_id=person.id,
                channel=person.channel or ctx.config.channels.default,
                not_before=when,
            )
        )
    enqueue(session, messages, now=now)
