"""One clock: "now" comes from the context, set at the edges, and nothing else asks the
system for the time (../shared/DESIGN.md, "One clock")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from followup.clock import RunningFrom, fixed

PACKAGE = Path(__file__).resolve().parents[1] / "followup"

# The ways Python hands out the real time as a date or datetime.
REAL_CLOCK = re.compile(
    r"utcnow\(\)|datetime\.now\(|date\.today\(|datetime\.utcnow|datetime\.today\(|\.fromtimestamp\("
    r"|time\.time\(\)"
)

# Where the real clock may be read, and how often; each with its reason.
ALLOWED = {
    # The one real clock, the drills' clock built on it, and rows' write stamps.
    "clock.py": 5,
    # A provider's Retry-After date is on the provider's (real) clock.
    "channels/sms.py": 1,
}


def real_clock_reads() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if REAL_CLOCK.search(code):
                found.setdefault(path.relative_to(PACKAGE).as_posix(), []).append(
                    f"{number}: {line.strip()}"
                )
    return found


def test_nothing_but_the_clock_module_and_its_named_exceptions_reads_the_real_time():
    found = real_clock_reads()
    unexpected = {name: lines for name, lines in found.items() if len(lines) > ALLOWED.get(name, 0)}
    assert unexpected == {}, (
        "read the time from the context (ctx.now(), or a `now` parameter), not the system: "
        f"{unexpected}"
    )


def test_the_check_finds_a_bare_read_of_the_real_time():
    assert REAL_CLOCK.search("    now = utcnow()")
    assert REAL_CLOCK.search("on = on or date.today()")
    assert REAL_CLOCK.search("next_run_time=datetime.now(UTC),")
    assert not REAL_CLOCK.search("now = ctx.now()")


def test_a_fixed_clock_stays_and_a_drill_clock_runs_from_its_start():
    start = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert fixed(start)() == start
    drill = RunningFrom(start)()
    assert start <= drill < start + timedelta(minutes=1)


def test_the_context_reads_its_own_clock(deployment):
    instant = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 on the 25th in Belgrade
    deployment.ctx.clock = fixed(instant)
    assert deployment.ctx.now() == instant
    assert deployment.ctx.site_today("BG").isoformat() == "2026-10-25"


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_exception_is_still_needed(name):
    """An exception whose file no longer reads the clock is taken off the list."""
    assert len(real_clock_reads().get(name, [])) == ALLOWED[name]
