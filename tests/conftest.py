"""Shared fixtures.

Storage tests run on SQLite and PostgreSQL from the same test function (the
`database_url` fixture is parametrised, as apscheduler's own tests do). PostgreSQL needs
FOLLOWUP_TEST_POSTGRES_URL; without it those cases skip with a message saying so, and
with FOLLOWUP_REQUIRE_POSTGRES=1 (set by .ci/run) a missing server is a failure instead.

FOLLOWUP_TEST_NOW=ISO-INSTANT (`make test-night`, and the second run of .ci/run) starts
every test's clock at that instant, moving on at the real pace (freezegun, tick=True), so
a time-of-day bug cannot hide behind the hour the suite happens to run at. Tests that
freeze time themselves still do (freezegun nests). Subprocesses do not inherit it: the
tests that start `followup serve`/`worker` give them an explicit `--now` (a product option
for drills), and the others check nothing that depends on the time.
"""

from __future__ import annotations

import contextlib
import io
import os
import textwrap
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from freezegun import freeze_time

# pydantic and SQLModel build their schemas for `date` and `datetime` when a model is first
# imported; under freezegun those are FakeDate and FakeDatetime, which they cannot build a
# schema for. So every module defining models is imported before any test freezes time.
import followup.cli  # noqa: F401
import followup.config  # noqa: F401
import followup.models  # noqa: F401
import followup.protocol  # noqa: F401

with contextlib.suppress(ImportError):
    import psycopg  # noqa: F401  (its C extension must load before freezegun patches `date`)
with contextlib.suppress(ImportError), warnings.catch_warnings():
    # FastAPI imports pydantic.v1 when it builds its first route, which defines subclasses
    # of `date`: under FOLLOWUP_TEST_NOW's freezegun that must have happened already.
    warnings.simplefilter("ignore")
    import pydantic.v1  # noqa: F401

pytest_plugins = ["tests.support.fixtures"]

TEST_NOW = os.environ.get("FOLLOWUP_TEST_NOW") or None

REPO = Path(__file__).resolve().parents[1]
PG_HINT = (
    "PostgreSQL tests skipped: set FOLLOWUP_TEST_POSTGRES_URL="
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres (or run `make test-pg`, which "
    "starts a throwaway server)"
)


def pytest_report_header(config) -> list[str]:
    url = os.environ.get("FOLLOWUP_TEST_POSTGRES_URL")
    browser = os.environ.get("FOLLOWUP_TEST_BROWSER")
    return [
        f"followup: PostgreSQL {'at ' + url if url else 'not configured (those tests skip)'}",
        f"followup: browser tests {'on' if browser else 'off (set FOLLOWUP_TEST_BROWSER=1)'}",
        f"followup: clock {'starts at ' + TEST_NOW if TEST_NOW else 'real (FOLLOWUP_TEST_NOW unset)'}",
    ]


def pytest_configure(config) -> None:
    _test_now()  # a malformed FOLLOWUP_TEST_NOW stops the run at once, with one line


def _test_now() -> datetime | None:
    if TEST_NOW is None:
        return None
    try:
        instant = datetime.fromisoformat(TEST_NOW)
    except ValueError:
        instant = None
    if instant is None or instant.utcoffset() is None:
        raise pytest.UsageError(
            f"FOLLOWUP_TEST_NOW={TEST_NOW!r}: expected an ISO instant with its offset, "
            "e.g. 2026-10-25T02:30:00+01:00"
        )
    return instant.astimezone(UTC)


@pytest.fixture(autouse=True)
def _clock_at_test_now() -> Iterator[None]:
    """Every test starts at FOLLOWUP_TEST_NOW when it is set (see the module docstring)."""
    instant = _test_now()
    if instant is None:
        yield
        return
    with freeze_time(instant, tick=True):
        yield


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on the configured server, dropped at the end,
    so several pytest runs can share one server."""
    base = os.environ.get("FOLLOWUP_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("FOLLOWUP_REQUIRE_POSTGRES"):
            pytest.fail("FOLLOWUP_REQUIRE_POSTGRES is set but FOLLOWUP_TEST_POSTGRES_URL is not")
        pytest.skip(PG_HINT)
    url = sa.engine.make_url(base)
    name = f"followup_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'followup.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, secret_key) -> None:
    """No test sees the developer's own deployment, channels or key."""
    for name in list(os.environ):
        if name.startswith(("FOLLOWUP_", "TWILIO_")) and name not in (
            "FOLLOWUP_TEST_POSTGRES_URL",
            "FOLLOWUP_REQUIRE_POSTGRES",
            "FOLLOWUP_TEST_BROWSER",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FOLLOWUP_SECRET_KEY", secret_key)


SITES = """
[sites.BG]
name = "Centre for Social Work Belgrade"
timezone = "Europe/Belgrade"
language = "sr-Latn"

[sites.NS]
name = "Centre for Social Work Novi Sad"
timezone = "Europe/Belgrade"
language = "en"
"""


@dataclass
class CliResult:
    exit_code: int
    out: str
    err: str


@dataclass
class Deployment:
    """A config.toml in a temporary folder, its database initialised."""

    folder: Path
    database_url: str
    extra: str = ""
    protocols_dir: Path = REPO / "schedules"
    active: tuple[str, ...] = ("undp-serbia", "wwp-europe")
    _ctx: object = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        return self.folder / "config.toml"

    def write_config(self) -> None:
        active = ", ".join(f'"{a}"' for a in self.active)
        self.path.write_text(
            textwrap.dedent(f"""
            [database]
            url = "{self.database_url}"

            [protocols]
            directory = "{self.protocols_dir}"
            active = [{active}]
            """)
            + SITES
            + textwrap.dedent(self.extra)
        )
        self._ctx = None

    @property
    def ctx(self):
        from followup.context import Context

        if self._ctx is None:
            self._ctx = Context.open(str(self.path))
            self._ctx.actor = "test"
        return self._ctx

    def session(self):
        from followup.db import transaction

        return transaction(self.ctx.engine)

    def csv(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def run(self, *args: str, stdin: str | None = None) -> CliResult:
        """Run `followup --config PATH ARGS…` in this process, as a user would."""
        from followup.cli import main

        out, err = io.StringIO(), io.StringIO()
        code = 0
        old_stdin = os.sys.stdin
        if stdin is not None:
            os.sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main(["--config", str(self.path), *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            os.sys.stdin = old_stdin
        return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def make_deployment(tmp_path, database_url):
    """Build a deployment with extra config text or other protocols, then `init` it."""
    made = []

    def build(
        extra: str = "", protocols_dir: Path | None = None, active: tuple[str, ...] | None = None
    ) -> Deployment:
        deployment = Deployment(tmp_path, database_url, extra=extra)
        if protocols_dir is not None:
            deployment.protocols_dir = protocols_dir
        if active is not None:
            deployment.active = active
        deployment.write_config()
        result = deployment.run("init")
        assert result.exit_code == 0, result.err
        made.append(deployment)
        return deployment

    yield build
    for deployment in made:
        if deployment._ctx is not None:
            deployment._ctx.engine.dispose()


@pytest.fixture
def deployment(make_deployment) -> Deployment:
    return make_deployment()


STAFF_CSV = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,console,sr-Latn
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,console,
SV1,BG,Vesna Ilić,supervisor;partner_support,,vesna@example.org,email,
F2,NS,Ivan Ilić,facilitator,,ivan@example.org,email,en
"""


@pytest.fixture
def staffed(deployment) -> Deployment:
    """A deployment with a small team at BG and NS."""
    result = deployment.run("import", "staff", str(deployment.csv("staff.csv", STAFF_CSV)))
    assert result.exit_code == 0, result.err
    return deployment
