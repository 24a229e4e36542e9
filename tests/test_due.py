"""`due` as of each site's own today."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

LA = """
[sites.LA]
name = "Los Angeles pilot"
timezone = "America/Los_Angeles"
language = "en"
"""


@pytest.fixture
def two_zones(make_deployment):
    deployment = make_deployment(extra=LA)
    with freeze_time("2026-03-01 12:00:00"):
        for case, site in (("BG-1", "BG"), ("LA-1", "LA")):
            result = deployment.run(
                "enrol",
                case,
                "--site",
                site,
                "--referral-source",
                "court",
                "--enrolled-on",
                "2026-02-08",
            )
            assert result.exit_code == 0, result.err
    return deployment


def statuses(deployment, *args):
    out = json.loads(deployment.run("due", "--format", "json", "--days", "0", *args).out)
    return {i["case_id"]: i["status"] for i in out if i["checkpoint"] == "intake_assessment"}


def test_today_is_each_sites_own_today(two_zones):
    # intake window: 8 February .. 1 March. At 23:30 UTC on 1 March it is already 2 March
    # in Belgrade (window closed) but still 1 March in Los Angeles (last day of the window).
    with freeze_time("2026-03-01 23:30:00"):
        assert statuses(two_zones) == {"BG-1": "overdue", "LA-1": "due"}
    with freeze_time("2026-03-01 22:30:00"):
        assert statuses(two_zones) == {"BG-1": "due", "LA-1": "due"}


def test_as_of_overrides_every_sites_today(two_zones):
    with freeze_time("2026-03-01 23:30:00"):
        assert statuses(two_zones, "--as-of", "2026-03-01") == {"BG-1": "due", "LA-1": "due"}


def test_days_looks_ahead_and_overdue_is_always_included(staffed):
    with freeze_time("2026-11-24 09:00:00"):
        staffed.run(
            "enrol",
            "BG-1",
            "--site",
            "BG",
            "--referral-source",
            "court",
            "--enrolled-on",
            "2026-10-01",
        )
        staffed.run(
            "enrol",
            "BG-2",
            "--site",
            "BG",
            "--referral-source",
            "court",
            "--enrolled-on",
            "2026-11-24",
        )
        soon = json.loads(staffed.run("due", "--format", "json", "--days", "0").out)
        assert [(i["case_id"], i["checkpoint"], i["status"]) for i in soon] == [
            ("BG-1", "intake_assessment", "overdue"),
            ("BG-2", "intake_assessment", "due"),
        ]
        later = json.loads(staffed.run("due", "--format", "json", "--days", "60").out)
        assert ("BG-1", "partner_first_contact") not in {
            (i["case_id"], i["checkpoint"]) for i in later
        }
        assert any(i["status"] == "scheduled" for i in later) or len(later) >= 2
