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


# --- pages and streaming -------------------------------------------------------------

AS_OF = "2026-11-24"


@pytest.fixture
def demo(make_deployment):
    """The demo's synthetic cohort (16 participants, their partners, a backlog)."""
    from followup.demo import load_demo

    deployment = make_deployment()
    with freeze_time(f"{AS_OF} 09:00:00"), deployment.session() as session:
        load_demo(session, deployment.ctx, size=16)
    return deployment


def due_json(deployment, *args) -> list[dict]:
    result = deployment.run("due", "--format", "json", "--as-of", AS_OF, "--days", "60", *args)
    assert result.exit_code == 0, result.err
    return json.loads(result.out)


def test_pages_of_due_cover_the_whole_list_once_in_order(demo):
    whole = due_json(demo)
    assert {i["status"] for i in whole} == {"overdue", "due", "scheduled"} and len(whole) > 20
    pages, offset = [], 0
    while page := due_json(demo, "--limit", "7", "--offset", str(offset)):
        assert len(page) <= 7
        pages.append(page)
        offset += 7
    assert [item for page in pages for item in page] == whole
    # A page may straddle two statuses: the offset skips across them.
    assert any(len({i["status"] for i in page}) > 1 for page in pages)
    assert due_json(demo, "--offset", str(len(whole))) == []
    assert due_json(demo, "--limit", "0") == []


def test_due_lists_in_its_documented_order(demo):
    whole = due_json(demo)
    rank = {"overdue": 0, "due": 1, "scheduled": 2}
    keys = [
        (rank[i["status"]], i["due_on"], i["case_id"], i["subject"], i["occurrence"]) for i in whole
    ]
    assert keys == sorted(keys)


def test_the_streamed_json_is_byte_for_byte_the_list_the_operation_answers(demo):
    from datetime import date

    from followup.operations.caseload import list_due
    from followup.operations.policy import operator

    streamed = demo.run("due", "--format", "json", "--as-of", AS_OF, "--days", "60").out
    with demo.session() as session:
        listed = list_due(
            session, demo.ctx, operator("test"), as_of=date.fromisoformat(AS_OF), days=60
        )
    assert streamed == json.dumps([i.to_json() for i in listed], indent=2) + "\n"
    assert json.loads(streamed) == due_json(demo, "--limit", str(len(listed) + 5))


def test_a_long_text_table_is_printed_a_block_at_a_time_with_one_header(demo, monkeypatch):
    def lines(text: str) -> list[list[str]]:
        return [line.split() for line in text.splitlines()]

    whole = demo.run("due", "--as-of", AS_OF, "--days", "60").out
    monkeypatch.setattr("followup.cli.casework.TABLE_BLOCK", 4)
    in_blocks = demo.run("due", "--as-of", AS_OF, "--days", "60").out
    assert lines(in_blocks) == lines(whole)
    assert in_blocks.count("STATUS") == 1
    page = demo.run("due", "--as-of", AS_OF, "--days", "60", "--limit", "3", "--offset", "2").out
    assert lines(page)[1:4] == lines(whole)[3:6]
