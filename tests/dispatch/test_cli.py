"""`followup dispatch`: its one-line errors and its summary."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("dispatch",),
            "Error: say --once for one pass; `followup worker` dispatches continuously "
            "(see `followup dispatch --help`)",
        ),
        (
            ("dispatch", "--once", "--now", "2026-03-30T08:00"),
            "Error: Invalid value for '--now': '2026-03-30T08:00' has no time zone; add one, e.g. "
            "2026-03-30T08:00+02:00 or 2026-03-30T08:00Z (see `followup dispatch --help`)",
        ),
        (
            ("dispatch", "--once", "--now", "next monday"),
            "Error: Invalid value for '--now': expected an instant such as 2026-03-29T08:00:00+02:00, "
            "got 'next monday' (see `followup dispatch --help`)",
        ),
    ],
)
def test_a_misused_dispatch_command_says_what_to_do_in_one_line(sim, args, message):
    result = sim.run(*args)
    assert (result.exit_code, result.err) == (2, message + "\n")


def test_a_pass_prints_the_messages_on_the_console_and_one_summary_line(cohort):
    result = cohort.run("dispatch", "--once", "--now", "2026-03-23T08:00:00+01:00")
    assert result.exit_code == 0, result.err
    assert result.out.count("----- message ") == 4
    assert result.out.rstrip().splitlines()[-1] == (
        "Dispatch pass at 2026-03-23T08:00:00+01:00: queued 2 reminder(s), 2 digest(s), 0 escalation(s), "
        "0 catch-up digest(s); sent 4, retrying 0, refused 0, given up 0, cancelled 0."
    )
    again = cohort.run("dispatch", "--once", "--now", "2026-03-23T08:00:00+01:00")
    assert again.out.count("----- message ") == 0
