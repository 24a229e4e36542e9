"""`schedule plan` shows what a protocol change would do; `apply` does it; completed stays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.models import FollowUp, Participant

SCHEDULES = Path(__file__).resolve().parents[1] / "schedules"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.fixture
def editable(make_deployment, tmp_path):
    folder = tmp_path / "schedules"
    folder.mkdir()
    shutil.copy(SCHEDULES / "undp-serbia.toml", folder)
    deployment = make_deployment(protocols_dir=folder, active=("undp-serbia",))
    for case, enrolled in (("BG-1", "2026-01-05"), ("BG-2", "2026-06-01")):
        result = deployment.run(
            "enrol", case, "--site", "BG", "--referral-source", "court", "--enrolled-on", enrolled
        )
        assert result.exit_code == 0, result.err
    done = deployment.run(
        "record", "interview", "BG-1", "--informant", "participant", "--on", "2026-01-10",
        "--physical", "no",
    )  # fmt: skip
    assert done.exit_code == 0, done.err
    return deployment, folder / "undp-serbia.toml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def rows(deployment):
    with deployment.session() as session:
        return {
            (case, f.checkpoint): f
            for f, case in session.execute(
                sa.select(FollowUp, Participant.case_id).join(
                    Participant, Participant.id == FollowUp.participant_id
                )
            )
        }


def test_plan_shows_moves_adds_and_cancels_per_person_and_changes_nothing(editable):
    deployment, protocol = editable
    edit(
        protocol,
        'offset = "0 days"\nwindow_before_days = 0\nwindow_after_days = 21',
        'offset = "1 week"\nwindow_before_days = 0\nwindow_after_days = 21',
    )
    edit(protocol, 'offset = "6 months"', 'offset = "9 months"')
    protocol.write_text(
        protocol.read_text() + '\n[[checkpoints]]\nname = "followup_12m"\nsubject = "participant"\n'
        'anchor = "completion"\noffset = "12 months"\n'
    )
    before = {k: (f.status, f.due_on) for k, f in rows(deployment).items()}
    result = deployment.run("schedule", "plan", "--format", "json")
    assert result.exit_code == 0, result.err
    plan = json.loads(result.out)
    assert plan["applied"] is False and plan["totals"]["people"] == 2
    first = next(p for p in plan["people"] if p["case_id"] == "BG-1")
    actions = {(c["action"], c["checkpoint"]) for c in first["changes"]}
    assert ("move", "followup_6m") in actions and ("add", "followup_12m") in actions
    assert ("move", "intake_assessment") not in actions  # completed: never touched
    second = next(p for p in plan["people"] if p["case_id"] == "BG-2")
    assert ("move", "intake_assessment") in {
        (c["action"], c["checkpoint"]) for c in second["changes"]
    }
    assert {k: (f.status, f.due_on) for k, f in rows(deployment).items()} == before
    text = deployment.run("schedule", "plan").out
    assert "BG-1 (undp-serbia " in text and "  add     participant" in text
    assert text.rstrip().endswith("Run `followup schedule apply` to do it.")


def test_apply_does_what_plan_showed_in_one_transaction_and_leaves_completed_alone(editable):
    deployment, protocol = editable
    edit(
        protocol,
        'offset = "0 days"\nwindow_before_days = 0\nwindow_after_days = 21',
        'offset = "1 week"\nwindow_before_days = 0\nwindow_after_days = 21',
    )
    completed = rows(deployment)[("BG-1", "intake_assessment")]
    shown = json.loads(deployment.run("schedule", "plan", "--format", "json").out)
    result = deployment.run("schedule", "apply")
    assert result.exit_code == 0, result.err
    assert (
        result.out
        == "Applied: 2 people on the new revision, 1 of them with follow-ups that change; "
        "1 follow-up(s): 1 moved, 0 added, 0 cancelled.\n"
    )
    after = rows(deployment)
    assert (
        after[("BG-1", "intake_assessment")].status,
        after[("BG-1", "intake_assessment")].due_on,
    ) == ("completed", completed.due_on)
    moved = next(p for p in shown["people"] if p["case_id"] == "BG-2")["changes"][0]
    assert after[("BG-2", "intake_assessment")].due_on.isoformat() == moved["due_on"]
    with deployment.session() as session:
        revisions = set(session.execute(sa.select(Participant.protocol_revision)).scalars())
    assert revisions == {shown["revisions"]["undp-serbia"]}
    assert deployment.run("schedule", "plan").out == "No pending follow-up would change.\n"


def test_a_broken_protocol_file_stops_plan_with_the_key_path(editable):
    deployment, protocol = editable
    edit(protocol, 'offset = "6 months"', 'offset = "six months"')
    result = deployment.run("schedule", "plan")
    assert result.exit_code == 1
    assert result.err.startswith(f"Error: {protocol}: checkpoints[7].offset: expected a duration")


HER_CHECKPOINT = 'label.sq = "Gjashtë muaj më pas (partnerja)"\nsubject = "partner"\nanchor = "end_of_participation"\noffset = "6 months"'


def with_partners(deployment) -> None:
    """P-1 (consent given) of BG-1; P-2 of BG-2 withdrew consent, so nothing of hers is pending."""
    partners = deployment.csv(
        "partners.csv",
        "partner_id,case_id,relationship,consent_on,channel,phone,email\n"
        "P-1,BG-1,current,2026-01-09,phone,+381601234567,\n"
        "P-2,BG-2,current,2026-06-02,phone,+381601234568,\n",
    )
    for args in (
        ("import", "partners", str(partners)),
        ("record", "consent", "P-2", "--withdrawn", "--on", "2026-07-01"),
    ):
        result = deployment.run(*args)
        assert result.exit_code == 0, result.err


def test_the_plan_on_the_command_line_counts_partners_follow_ups_and_names_no_one(editable):
    from followup.models import Audit

    deployment, protocol = editable
    with_partners(deployment)
    edit(protocol, HER_CHECKPOINT, HER_CHECKPOINT.replace("6 months", "9 months"))
    result = deployment.run("schedule", "plan", "--format", "json")
    assert result.exit_code == 0, result.err
    plan = json.loads(result.out)
    assert "P-1" not in result.out and "P-2" not in result.out
    assert all(c["subject"] == "participant" for p in plan["people"] for c in p["changes"])
    assert plan["partner_changes_hidden"] == {"move": 1, "add": 0, "cancel": 0}
    assert plan["totals"]["move"] == 1  # counted, not listed
    text = deployment.run("schedule", "plan").out
    assert "P-1" not in text and "partner " not in text
    assert "Partners' follow-ups (not listed here" in text and "1 moved, 0 added" in text
    with deployment.session() as session:
        audited = session.execute(
            sa.select(Audit.actor, Audit.detail).where(Audit.action == "schedule_plan")
        ).all()
    assert len(audited) == 2 and all(a.actor.startswith("cli:") for a in audited)
    assert all('"partners": []' in a.detail for a in audited)


def test_the_plan_lists_her_rows_only_to_a_viewer_who_may_see_her(editable):
    from followup.context import Context
    from followup.schedule_change import plan_change

    deployment, protocol = editable
    with_partners(deployment)
    edit(protocol, HER_CHECKPOINT, HER_CHECKPOINT.replace("6 months", "9 months"))
    fresh = Context.open(str(deployment.path), engine=deployment.ctx.engine)
    seen = plan_change(fresh, apply=False, may_see_her=lambda site, facilitator: site == "BG")
    hers = [c for p in seen.people for c in p["changes"] if c["subject"] == "partner"]
    assert [(c["partner_id"], c["action"], c["checkpoint"]) for c in hers] == [
        ("P-1", "move", "followup_6m")
    ]
    assert seen.hidden == 0


def test_plan_lists_what_changed_in_the_protocol_per_checkpoint_with_its_label(editable):
    deployment, protocol = editable
    edit(protocol, 'offset = "6 months"', 'offset = "9 months"')
    protocol.write_text(
        protocol.read_text() + '\n[[checkpoints]]\nname = "followup_12m"\nsubject = "participant"\n'
        'label = "Twelve months after completion"\nanchor = "completion"\noffset = "12 months"\n'
    )
    plan = json.loads(deployment.run("schedule", "plan", "--format", "json").out)
    (diff,) = plan["protocol_changes"]
    assert diff["protocol"] == "undp-serbia" and diff["people"] == 2
    changes = {(c["change"], c["subject"], c["checkpoint"]): c for c in diff["checkpoints"]}
    added = changes[("added", "participant", "followup_12m")]
    assert added["label"] == "Twelve months after completion"
    moved = changes[("changed", "participant", "followup_6m")]
    assert moved["fields"] == [{"field": "offset", "before": "6 months", "after": "9 months"}]
    assert moved["label"] == "Six months after completion"
    assert len(changes) == 2  # nothing else differs (her +6 months was not edited)
    text = deployment.run("schedule", "plan").out
    assert "added      Twelve months after completion (participant, followup_12m)" in text
    assert "offset: 6 months -> 9 months" in text


def test_plan_counts_people_and_follow_ups_apart(editable):
    """Two people move to the new revision; only BG-2's pending intake moves (BG-1's is
    completed): one person with a change, one follow-up, and BG-1 is not listed."""
    deployment, protocol = editable
    edit(
        protocol,
        'offset = "0 days"\nwindow_before_days = 0\nwindow_after_days = 21',
        'offset = "1 week"\nwindow_before_days = 0\nwindow_after_days = 21',
    )
    plan = json.loads(deployment.run("schedule", "plan", "--format", "json").out)
    assert plan["totals"] == {
        "people": 2,
        "people_changed": 1,
        "followups": 1,
        "move": 1,
        "add": 0,
        "cancel": 0,
    }
    assert [p["case_id"] for p in plan["people"]] == ["BG-2"]
