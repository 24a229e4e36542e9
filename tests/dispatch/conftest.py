"""Fixtures for the reminder service: a small protocol, a team, and a dispatcher to drive.

The team (tests/conftest.py STAFF_CSV): F1 (facilitator, BG, console), PS1
(partner support, BG, console), SV1 (supervisor and partner support, BG, e-mail,
no phone), F2 (facilitator, NS, e-mail, English). Both centres are in Europe/Belgrade.
"""

from __future__ import annotations

import io
import random
import textwrap
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.channels.console import ConsoleChannel
from followup.clock import utcnow
from followup.models import Outbox, Staff
from tests.conftest import STAFF_CSV

BELGRADE = ZoneInfo("Europe/Belgrade")

# One call two weeks after enrolment, for him and for her, with a narrow window.
SIM_PROTOCOL = """
id = "sim"
name = "Two-week call"

[[checkpoints]]
name = "call"
label = "Two-week call"
subject = "participant"
anchor = "enrolment"
offset = "14 days"
window_before_days = 2
window_after_days = 3

[[checkpoints]]
name = "call"
label = "Two-week call (partner)"
subject = "partner"
anchor = "enrolment"
offset = "14 days"
window_before_days = 2
window_after_days = 3
on_dropout = "continue"
"""


def local(text: str) -> datetime:
    """'2026-03-29 08:00' in Belgrade, as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=BELGRADE).astimezone(UTC)


@pytest.fixture
def sim_extra() -> str:
    """Extra config.toml text for `sim`; parametrise a test on `sim_extra` to change it."""
    return ""


@pytest.fixture
def sim(make_deployment, tmp_path, sim_extra):
    """A deployment on the `sim` protocol with the team imported."""
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "sim.toml").write_text(SIM_PROTOCOL)
    deployment = make_deployment(extra=sim_extra, protocols_dir=folder, active=("sim",))
    result = deployment.run("import", "staff", str(deployment.csv("staff.csv", STAFF_CSV)))
    assert result.exit_code == 0, result.err
    return deployment


# Her contact details are planted so tests can check they never reach a message.
PARTNERS_CSV = """\
partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
P-2,BG-2,current,2026-03-10,phone,+381601234567,mirjana.p2@example.net,PS1
"""


@pytest.fixture
def cohort(sim):
    """BG-1, BG-2 (F1) and BG-2's partner P-2 (PS1) at BG, NS-1 (F2) at NS: see test_simulation."""
    with freeze_time("2026-03-20 07:00:00"):
        for case, site, on, worker in (
            ("BG-1", "BG", "2026-03-15", "F1"),
            ("BG-2", "BG", "2026-03-09", "F1"),
            ("NS-1", "NS", "2026-03-20", "F2"),
        ):
            result = sim.run(
                "enrol",
                case,
                "--site",
                site,
                "--referral-source",
                "court",
                "--enrolled-on",
                on,
                "--facilitator",
                worker,
            )
            assert result.exit_code == 0, result.err
        result = sim.run("import", "partners", str(sim.csv("partners.csv", PARTNERS_CSV)))
        assert result.exit_code == 0, result.err
    return sim


class Driver:
    """Runs dispatch passes in this process at chosen instants, printing to a buffer."""

    def __init__(self, deployment, environ: dict | None = None, seed: int = 1) -> None:
        from followup.dispatch.sender import ChannelSet, Sender

        self.deployment = deployment
        self.console = io.StringIO()
        self.channels = ChannelSet(
            deployment.ctx,
            environ=environ or {},
            channels={"console": ConsoleChannel(self.console)},
        )
        self.sender = Sender(
            deployment.ctx, self.channels, worker="test-worker", rng=random.Random(seed)
        )

    def at(self, when: datetime | None = None):
        from followup.dispatch.run import run_pass

        moment = when or utcnow()
        return run_pass(self.deployment.ctx, self.sender, clock=lambda: moment)

    def close(self) -> None:
        self.channels.close()


@pytest.fixture
def driver_for():
    made = []

    def build(deployment, **kwargs) -> Driver:
        driver = Driver(deployment, **kwargs)
        made.append(driver)
        return driver

    yield build
    for driver in made:
        driver.close()


def run_passes(driver, start, end, every=timedelta(minutes=30)):
    """Dispatch passes from `start` to `end`, `every` apart, each at its own frozen time."""
    moment = start
    with freeze_time(start) as frozen:
        while moment <= end:
            frozen.move_to(moment)
            driver.at(moment)
            moment += every


def outbox_rows(deployment, **where) -> list:
    with deployment.session() as session:
        query = (
            sa.select(Outbox, Staff.staff_id)
            .join(Staff, Staff.id == Outbox.staff_id)
            .order_by(Outbox.id)
        )
        for key, value in where.items():
            query = query.where(getattr(Outbox, key) == value)
        return [(row, staff_id) for row, staff_id in session.execute(query)]


def csv(text: str) -> str:
    return textwrap.dedent(text).lstrip()
