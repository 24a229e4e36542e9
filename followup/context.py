"""What every command needs: the validated config, the engine, the protocols, the key.

Opened once per command (or once per service process) from config.toml.
"""

from __future__ import annotations

import getpass
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from followup import config as config_module
from followup.clock import utcnow
from followup.config import Config
from followup.crypto import Vault, load_vault
from followup.db import make_engine, safe_url, sqlite_files, transaction
from followup.errors import ConfigError, KeyUnavailable
from followup.instruments import Instrument, load_instruments
from followup.models import Partner, ProtocolRevision, Site
from followup.protocol import Protocol, load_protocols

SHIPPED_INSTRUMENTS = Path(__file__).resolve().parents[1] / "schedules" / "instruments"


@dataclass
class Context:
    config: Config
    engine: Engine
    actor: str = field(default_factory=lambda: f"cli:{_os_user()}")
    # The one clock (followup.clock): the real time unless an edge set another (a drill's
    # `--now`, a test's frozen instant). Read it with `now()`, once per request or pass.
    clock: Callable[[], datetime] = field(default=utcnow, repr=False)
    _revisions: dict[str, Protocol] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | None = None, *, engine: Engine | None = None) -> Context:
        config = config_module.load(path)
        return cls(config=config, engine=engine or make_engine(config.database_url))

    @cached_property
    def protocols(self) -> dict[str, Protocol]:
        """The active protocols as the files say now."""
        return load_protocols(
            self.config.resolve(self.config.protocols.directory), self.config.protocols.active
        )

    @cached_property
    def instruments(self) -> dict[str, Instrument]:
        """The instrument files as they are now: `<protocols.directory>/instruments`, or
        the shipped ones when a deployment's own protocol folder has none."""
        directory = self.config.resolve(self.config.protocols.directory) / "instruments"
        if not directory.is_dir():
            directory = SHIPPED_INSTRUMENTS
        instruments = load_instruments(directory)
        for protocol in self.protocols.values():
            for index, checkpoint in enumerate(protocol.checkpoints):
                if checkpoint.instrument and checkpoint.instrument not in instruments:
                    where = self.config.resolve(self.config.protocols.directory)
                    raise ConfigError(
                        f"{where / (protocol.id + '.toml')}: checkpoints[{index}].instrument: "
                        f'no instrument "{checkpoint.instrument}" in {directory}. Hint: one of '
                        f"{', '.join(sorted(instruments))}, or add its file"
                    )
        return instruments

    def protocol(self, protocol_id: str | None) -> Protocol:
        protocol_id = protocol_id or self.config.protocols.default_id
        if protocol_id not in self.protocols:
            raise ConfigError(
                f'{self.config.path}: protocols.active: protocol "{protocol_id}" is not active. '
                f"Hint: use one of {', '.join(self.protocols)} or add it to protocols.active"
            )
        return self.protocols[protocol_id]

    def protocol_at(self, session: Session, revision: str) -> Protocol:
        """The protocol exactly as it was when someone was enrolled into this revision."""
        if revision not in self._revisions:
            definition = session.execute(
                sa.select(ProtocolRevision.definition).where(ProtocolRevision.revision == revision)
            ).scalar_one()
            self._revisions[revision] = Protocol.from_json(definition)
        return self._revisions[revision]

    def register_protocols(self, session: Session) -> None:
        """Store the current revision of each active protocol (idempotent)."""
        known = set(session.execute(sa.select(ProtocolRevision.revision)).scalars())
        for protocol in self.protocols.values():
            if protocol.revision not in known:
                session.add(
                    ProtocolRevision(
                        revision=protocol.revision,
                        protocol_id=protocol.id,
                        definition=protocol.to_json(),
                    )
                )
            self._revisions[protocol.revision] = protocol
        session.flush()

    def sync_sites(self, session: Session) -> None:
        """config.toml is the source of truth for sites; copy it into the table."""
        existing = {site.code: site for site in session.execute(sa.select(Site)).scalars()}
        for code, site in self.config.sites.items():
            row = existing.get(code) or Site(code=code)
            row.name, row.timezone, row.language = site.name, site.timezone, site.language
            session.add(row)
        session.flush()

    # --- the survivor-data key -------------------------------------------------

    @cached_property
    def _vault(self) -> Vault | None:
        return load_vault(self.config.resolve(self.config.security.key_file))

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise KeyUnavailable(self._no_key_message())
        return self._vault

    def check_key(self, session: Session) -> None:
        """Refuse to run when sealed partner data exists and cannot be opened."""
        sealed = session.execute(
            sa.select(sa.func.coalesce(Partner.contact_sealed, Partner.plan_sealed))
            .where(sa.or_(Partner.contact_sealed.is_not(None), Partner.plan_sealed.is_not(None)))
            .limit(1)
        ).scalar_one_or_none()
        if sealed is None:
            return
        self.vault.open(sealed)  # raises with a clear message when the key is wrong

    def _no_key_message(self) -> str:
        path = self.config.resolve(self.config.security.key_file)
        return (
            f"{path}: no encryption key for partner data. Hint: set FOLLOWUP_SECRET_KEY, "
            f"restore the key file, or run `followup init` for a new deployment"
        )

    # --- time --------------------------------------------------------------------

    def now(self) -> datetime:
        """Now, as this context's clock says (an aware UTC datetime)."""
        return self.clock()

    def site_today(self, site_code: str, now: datetime | None = None) -> date:
        """'Today' at the centre, which is not today in UTC for an hour or two a day."""
        moment = now or self.now()
        return moment.astimezone(self.config.sites[site_code].zone).date()


# --- start-up checks -----------------------------------------------------------------------


def startup_checks(
    ctx: Context, *, schema: bool = True, key: bool = True, private_file: bool = False
) -> None:
    """What a command checks before it does anything, in one place, so every entry point
    refuses the same broken deployment with the same one line: a database file others can
    read (`private_file`: init, serve, worker), a database that cannot be reached, no
    followup tables (`schema`), sealed partner data and no key that opens it (`key`)."""
    if private_file:
        check_private_database(ctx.config.database_url, ctx.config.path)
    check_reachable(ctx.engine, ctx.config.path)
    if schema:
        require_schema(ctx.engine, ctx.config.path)
    if key:
        with transaction(ctx.engine) as session:
            ctx.check_key(session)


def check_private_database(url: str, config_path) -> None:
    """A SQLite database (and its -wal and -shm files) readable only by its owner: it holds
    case ids, violence answers, risk, consent and the audit trail."""
    exposed = [
        (path, stat.S_IMODE(path.stat().st_mode))
        for path in sqlite_files(url)
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077
    ]
    if exposed:
        path, mode = exposed[0]
        files = " ".join(shlex.quote(str(p)) for p, _ in exposed)
        raise ConfigError(
            f"{path}: the database can be read by other users (mode {mode:o}). "
            f"Hint: chmod 600 {files}"
        )


def check_reachable(engine: Engine, config_path) -> None:
    """One line naming the database (never its password) when it cannot be reached."""
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as problem:
        url = engine.url
        reason = (str(problem.orig or problem).strip().splitlines() or ["no reason given"])[0]
        if url.password:
            reason = reason.replace(str(url.password), "***")
        raise ConfigError(
            f"{config_path}: database.url: cannot reach the database "
            f"{safe_url(url)} ({reason[:200]}). "
            "Hint: check that the server is running and the URL is right"
        ) from None


def require_schema(engine: Engine, config_path) -> None:
    """Refuse a database without tables, or whose schema is behind (or ahead of) the code."""
    from followup.migrate import require_current

    require_current(engine, config_path)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
