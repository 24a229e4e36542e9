"""`followup serve` and `followup worker`: the long-running service.

`serve` runs the HTTP app (the web pages and the Twilio status callback) with uvicorn
and, unless told `--no-scheduler`, the dispatcher in the same process. `worker` runs
only the dispatcher, for deployments that split the two across machines.

The dispatcher is an APScheduler 3 BackgroundScheduler with a handful of jobs, never
one per reminder — the schedule lives in the database:

- `dispatch`: a pass every `dispatch.interval_seconds`;
- `mornings:ZONE`: a pass at the end of the quiet hours in each centre's zone, when
  the day's reminders and escalations fall due;
- `digests:ZONE`: a pass at `digest_time` on working days, for the daily digests.

Every job runs the same pass, a pure function of the clock and the database
(followup.dispatch.planner), so a missed, late or doubled job can neither lose nor
duplicate a message; the timed jobs only make the morning messages punctual.

SIGTERM or Ctrl-C: the message in hand is finished, the rest of the claimed batch is
handed back for the next sender, and the process exits with status 0.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from followup import clock as clocks
from followup.context import Context
from followup.db import safe_url, transaction
from followup.errors import ConfigError

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("followup.service")


class Dispatcher:
    """Runs dispatch passes, one at a time, and never lets an error stop the schedule."""

    def __init__(
        self, ctx: Context, stop: threading.Event, clock: Callable[[], datetime], *, environ=None
    ) -> None:
        from followup.dispatch.sender import ChannelSet, Sender

        self.ctx = ctx
        self.stop = stop
        self.clock = clock
        self.channels = ChannelSet(ctx, environ=environ)
        self.sender = Sender(ctx, self.channels, stop=stop)
        self._busy = threading.Lock()

    def run_pass(self) -> None:
        from followup.dispatch.run import run_pass

        if self.stop.is_set() or not self._busy.acquire(blocking=False):
            return  # shutting down, or a pass is already running in this process
        try:
            outcome = run_pass(self.ctx, self.sender, clock=self.clock)
            if (
                outcome.planned.reminders
                + outcome.planned.digests
                + outcome.planned.escalations
                + outcome.planned.catch_ups
                or outcome.sent.keys
                or outcome.sent.retrying
            ):
                log.info("%s", outcome.summary())
        except Exception:  # the next pass tries again; the outbox keeps everything
            log.exception("dispatch pass failed; the next pass will try again")
        finally:
            self._busy.release()

    def scheduler(self):
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        config = self.ctx.config
        reminders = config.reminders
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        scheduler.add_job(
            self.run_pass,
            IntervalTrigger(seconds=config.dispatch.interval_seconds),
            id="dispatch",
            name="dispatch pass",
        )
        # A first pass at once, not an interval after start: a job with no trigger runs
        # once when the scheduler starts, by APScheduler's own (real) clock.
        scheduler.add_job(self.run_pass, id="dispatch:start", name="first dispatch pass")
        for zone in sorted({site.timezone for site in config.sites.values()}):
            end = reminders.quiet_hours.end
            scheduler.add_job(
                self.run_pass,
                CronTrigger(hour=end.hour, minute=end.minute, timezone=zone),
                id=f"mornings:{zone}",
                name=f"reminders and escalations, {zone}",
            )
            at = reminders.digest_time
            scheduler.add_job(
                self.run_pass,
                CronTrigger(
                    hour=at.hour,
                    minute=at.minute,
                    day_of_week=",".join(reminders.working_days),
                    timezone=zone,
                ),
                id=f"digests:{zone}",
                name=f"daily digests, {zone}",
            )
        return scheduler

    def close(self) -> None:
        self.channels.close()


def run(
    ctx: Context,
    *,
    http: bool,
    scheduler: bool,
    start: datetime | None = None,
    out: TextIO | None = None,
) -> None:
    """Run until SIGTERM or Ctrl-C."""
    out = out or sys.stdout
    # The database, its file mode and the key were checked by the command
    # (followup.context.startup_checks); what remains is this process's own: the port, and
    # channel settings that do not parse (which stop the start instead of sending that
    # staff's messages to the console).
    if http:
        _check_port(ctx)
    stop = threading.Event()
    if start is not None:
        ctx.clock = clocks.RunningFrom(start)  # web requests and dispatch passes alike
    dispatcher = Dispatcher(ctx, stop, ctx.clock) if scheduler else None
    if dispatcher is None:
        from followup.dispatch.sender import check_channel_settings

        check_channel_settings(ctx)
    _logging()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    jobs = dispatcher.scheduler() if dispatcher else None
    _banner(ctx, out, dispatcher, http=http, start=start)
    try:
        if jobs is not None:
            jobs.start()
        if http:
            _serve_http(ctx, stop)
        else:
            stop.wait()
    finally:
        stop.set()
        if jobs is not None:
            jobs.shutdown(wait=True)  # waits for the pass in hand, which stops after its message
        if dispatcher is not None:
            dispatcher.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("followup stopped.", file=out, flush=True)


def http_config(ctx: Context) -> uvicorn.Config:
    """uvicorn's settings for `serve`. proxy_headers off: uvicorn would otherwise take the
    client's address from X-Forwarded-For on any request from 127.0.0.1, so anyone on the
    machine could pick the address the login throttle counts. followup.http applies
    `web.trusted_proxies` instead."""
    import uvicorn

    from followup.http import create_app

    return uvicorn.Config(
        create_app(ctx),
        host=ctx.config.web.host,
        port=ctx.config.web.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


def _serve_http(ctx: Context, stop: threading.Event) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            stop.set()  # the dispatcher stops with the web server, not after it
            super().handle_exit(sig, frame)

    server = Server(http_config(ctx))
    watcher = threading.Thread(
        target=lambda: (stop.wait(), setattr(server, "should_exit", True)), daemon=True
    )
    watcher.start()
    server.run()


def _check_port(ctx: Context) -> None:
    web = ctx.config.web
    with socket.socket(socket.AF_INET6 if ":" in web.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((web.host, web.port))
        except OSError as problem:
            raise ConfigError(
                f"{ctx.config.path}: web.port: cannot listen on {web.host}:{web.port} "
                f"({problem.strerror}). Hint: stop what is using it, or set another web.port"
            ) from None


def _logging() -> None:
    root = logging.getLogger("followup")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _demo_logins(ctx: Context) -> str | None:
    from followup.operations.accounts import demo_logins

    with transaction(ctx.engine) as session:
        return demo_logins(session, ctx)


def _banner(
    ctx: Context, out: TextIO, dispatcher: Dispatcher | None, *, http: bool, start: datetime | None
) -> None:

    config = ctx.config
    base = config.web.base_url.rstrip("/")
    lines = ["followup is running."]
    if http:
        lines.append(
            f"  Web:        {base}/login  (listening on {config.web.host}:{config.web.port}; "
            f"Twilio status callbacks at {base}/twilio/status)"
        )
        logins = _demo_logins(ctx)
        if logins:
            lines.append(f"  Log in:     {logins}")
    else:
        lines.append("  Web:        not served here (run `followup serve --no-scheduler` for it)")
    lines.append(f"  Database:   {safe_url(config.database_url)}")
    if dispatcher is None:
        lines.append("  Reminders:  not sent here (run `followup worker` for them)")
    else:
        lines.append(
            f"  Messages:   {dispatcher.channels.describe()}"
            + (
                "  (console messages print below)"
                if "console" in dispatcher.channels.channels
                else ""
            )
        )
        for kind, why in sorted(dispatcher.channels.missing.items()):
            lines.append(f"              {kind} not set up: {why.split(':')[0]}")
        r = config.reminders
        lines.append(
            f"  Schedule:   a pass every {config.dispatch.interval_seconds} s; reminders "
            f"{', '.join(str(d) for d in r.lead_days)} day(s) before due, after "
            f"{r.quiet_hours.end:%H:%M}; digests at {r.digest_time:%H:%M} "
            f"({', '.join(r.working_days)}), centre local time"
        )
        if start is not None:
            lines.append(f"  Clock:      simulated, starting at {start.isoformat()}")
    lines.append(
        "  Next:       `followup due` lists what is due; record interviews with "
        "`followup record interview`. Ctrl-C stops (a message in hand is finished first)."
    )
    print("\n".join(lines), file=out, flush=True)
