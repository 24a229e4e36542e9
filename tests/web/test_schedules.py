"""Schedules for managers: the protocols as a table, the plan of the files as they are
now, and Apply — which applies only the plan the manager saw."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import sqlalchemy as sa

from followup.models import Audit
from tests.conftest import REPO
from tests.web.conftest import build_team


@pytest.fixture
def editable(make_deployment, tmp_path):
    """A team whose protocol files can be edited during the test."""
    folder = tmp_path / "protocols"
    shutil.copytree(REPO / "schedules", folder)
    team = build_team(make_deployment(protocols_dir=folder))
    team.protocol_file = folder / "undp-serbia.toml"
    return team


def edit(team, old: str, new: str) -> None:
    text = team.protocol_file.read_text()
    assert old in text
    team.protocol_file.write_text(text.replace(old, new, 1))


def fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]+)"', page).group(1)


def test_the_active_protocols_are_shown_as_a_readable_table(editable):
    page = editable.browser("manager").get("/schedules").text
    assert "UNDP Serbia" in page and "Three months after completion" in page
    assert "3 months after completion" in page
    assert "No pending follow-up would change." in page
    assert 'action="/schedules/apply"' not in page


def test_an_edited_file_shows_its_plan_and_apply_does_exactly_that(editable):
    browser = editable.browser("manager")
    edit(editable, 'offset = "3 months"', 'offset = "4 months"')
    page = browser.get("/schedules").text
    assert "would move to the new revision" in page and "followup_3m" in page and "move" in page
    before = editable.followup(editable.followup_id("BG-1", "followup_3m")).due_on
    response = browser.post("/schedules/apply", {"fingerprint": fingerprint(page)})
    assert response.status_code == 200 and "Applied:" in response.text
    after = editable.followup(editable.followup_id("BG-1", "followup_3m")).due_on
    assert after > before
    assert "No pending follow-up would change." in response.text
    with editable.session() as session:
        actors = (
            session.execute(sa.select(Audit.actor).where(Audit.action == "schedule_apply"))
            .scalars()
            .all()
        )
    assert actors == ["web:manager"]


def test_apply_refuses_when_the_files_changed_after_the_manager_looked(editable):
    browser = editable.browser("manager")
    edit(editable, 'offset = "3 months"', 'offset = "4 months"')
    seen = fingerprint(browser.get("/schedules").text)
    edit(editable, 'offset = "4 months"', 'offset = "5 months"')
    before = editable.followup(editable.followup_id("BG-1", "followup_3m")).due_on
    response = browser.post("/schedules/apply", {"fingerprint": seen})
    assert response.status_code == 409
    assert "The protocol files changed since you looked. Nothing was applied" in response.text
    assert editable.followup(editable.followup_id("BG-1", "followup_3m")).due_on == before


def test_a_mistake_in_an_edited_file_is_shown_with_where_it_is(editable):
    edit(editable, 'offset = "3 months"', 'offset = "3 moons"')
    response = editable.browser("manager").get("/schedules")
    assert response.status_code == 422
    assert "undp-serbia.toml" in response.text and "3 moons" in response.text


HER_CHECKPOINT = (
    'label.sq = "Gjashtë muaj më pas (partnerja)"\nsubject = "partner"\n'
    'anchor = "end_of_participation"\noffset = "6 months"'
)


def test_the_managers_plan_shows_partners_follow_ups_only_as_counts_and_is_audited(editable):
    edit(editable, HER_CHECKPOINT, HER_CHECKPOINT.replace("6 months", "9 months"))
    page = editable.browser("manager").get("/schedules").text
    assert "would move to the new revision" in page
    assert "P-1" not in page and "P-NS1" not in page and "· Partner" not in page
    assert "Partners&#39; follow-ups, counted above but not listed" in page
    assert "2 moved, 0 added, 0 cancelled" in page  # P-1 at BG and P-NS1 at NS
    with editable.session() as session:
        audited = session.execute(
            sa.select(Audit.actor, Audit.detail).where(Audit.action == "schedule_plan")
        ).all()
    assert [a.actor for a in audited] == ["web:manager"]
    assert '"partners": []' in audited[0].detail


def test_an_administrator_sees_her_rows_in_the_plan_and_the_read_is_audited(editable):
    edit(editable, HER_CHECKPOINT, HER_CHECKPOINT.replace("6 months", "9 months"))
    page = editable.browser("admin").get("/schedules").text
    assert "Partner P-1" in page and "Partner P-NS1" in page
    assert "counted above but not listed" not in page
    with editable.session() as session:
        detail = session.execute(
            sa.select(Audit.detail).where(Audit.action == "schedule_plan")
        ).scalar_one()
    assert '"partners": ["P-1", "P-NS1"]' in detail


def test_a_man_whose_only_changes_are_hers_is_not_listed_to_the_manager(editable):
    """Only her +6 months moves: the manager sees counts, and no case row at all (a case
    id listed with nothing under it said that something of hers changes)."""
    edit(editable, HER_CHECKPOINT, HER_CHECKPOINT.replace("6 months", "9 months"))
    page = editable.browser("manager").get("/schedules").text
    assert "BG-1</td>" not in page and "NS-1</td>" not in page
    assert "2 people would move to the new revision; 2 of them have follow-ups that change" in page
    text = editable.deployment.run("schedule", "plan", "--as", "manager").out
    assert "BG-1" not in text and "NS-1" not in text and "2 moved, 0 added" in text


def test_the_cli_and_the_web_show_the_same_protocol_diff_and_counts(editable):
    edit(editable, 'offset = "3 months"', 'offset = "4 months"')
    edit(editable, HER_CHECKPOINT, HER_CHECKPOINT.replace("6 months", "9 months"))
    cli = editable.deployment.run("schedule", "plan", "--as", "manager", "--format", "json")
    assert cli.exit_code == 0, cli.err
    plan = json.loads(cli.out)
    page = editable.browser("manager").get("/schedules").text
    (diff,) = plan["protocol_changes"]
    assert f"{diff['people']} people are enrolled on revision {diff['revision_from']}" in page
    assert len(diff["checkpoints"]) == 2
    for change in diff["checkpoints"]:
        (field,) = change["fields"]
        assert field["field"] == "offset"
        row = re.search(
            rf"<td>{re.escape(change['label'])}</td>\s*<td>[^<]*</td>\s*<td>changed</td>\s*"
            rf"<td><div>when: {field['before']} → {field['after']}</div>",
            page,
        )
        assert row, change
    t = plan["totals"]
    assert (
        f"{t['people']} people would move to the new revision; {t['people_changed']} of them "
        f"have follow-ups that change: {t['followups']} follow-up(s), {t['move']} moved"
    ) in page
    for person in plan["people"]:
        for change in person["changes"]:
            assert f"<td>{change['label']}</td>" in page
    text = editable.deployment.run("schedule", "plan", "--as", "manager").out
    for change in diff["checkpoints"]:
        assert f"changed    {change['label']} ({change['subject']}, {change['checkpoint']})" in text
