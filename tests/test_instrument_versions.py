"""Instruments are versioned like protocols: an edited file changes nothing until
`schedule plan` has shown it and `schedule apply` has applied it; a protocol naming an
instrument that does not exist is refused with the file and the key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup import instrument_store
from followup.models import InstrumentRevision

SCHEDULES = Path(__file__).resolve().parents[1] / "schedules"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.fixture
def own(make_deployment, tmp_path):
    """A deployment with its own copy of the protocol and instrument files."""
    folder = tmp_path / "schedules"
    shutil.copytree(SCHEDULES, folder)
    return make_deployment(protocols_dir=folder, active=("undp-serbia",)), folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _in_force(deployment, instrument_id: str) -> str:
    ctx = deployment.ctx
    with deployment.session() as session:
        return instrument_store.applied(session, ctx.instruments, instrument_id, ctx.now()).revision


def test_an_instrument_is_applied_the_first_time_it_is_used(own):
    deployment, folder = own
    shipped = deployment.ctx.instruments["risk-checklist"].revision
    assert _in_force(deployment, "risk-checklist") == shipped
    _edit(folder / "instruments" / "risk-checklist.toml", "at_least = 14", "at_least = 15")
    deployment._ctx = None  # the files as they are now
    assert deployment.ctx.instruments["risk-checklist"].revision != shipped
    assert _in_force(deployment, "risk-checklist") == shipped  # until applied


def test_an_edited_instrument_is_shown_by_plan_and_in_force_only_after_apply(own):
    deployment, folder = own
    first = deployment.run("schedule", "apply")
    assert first.exit_code == 0, first.err
    with deployment.session() as session:
        applied = {
            r.instrument_id: r.revision for r in session.scalars(sa.select(InstrumentRevision))
        }
    assert set(applied) == {"core", "partner-followup", "risk-checklist"}

    _edit(folder / "instruments" / "partner-followup.toml", "midpoint = 25", "midpoint = 30")
    plan = deployment.run("schedule", "plan", "--format", "json")
    assert plan.exit_code == 0, plan.err
    changes = json.loads(plan.out)["instrument_changes"]
    assert [c["instrument"] for c in changes] == ["partner-followup"]
    assert changes[0]["revision_from"] == applied["partner-followup"]
    assert changes[0]["scores_redefined"] == ["violent_acts"]  # a midpoint moved its sum
    text = deployment.run("schedule", "plan").out
    assert "Instrument partner-followup:" in text and "would apply" in text
    with deployment.session() as session:  # plan wrote nothing
        assert len(session.scalars(sa.select(InstrumentRevision)).all()) == 3

    assert deployment.run("schedule", "apply").exit_code == 0
    again = json.loads(deployment.run("schedule", "plan", "--format", "json").out)
    assert again["instrument_changes"] == []
    with deployment.session() as session:
        assert len(session.scalars(sa.select(InstrumentRevision)).all()) == 4  # old one kept


def test_a_reworded_item_changes_the_revision_but_redefines_no_score(own):
    deployment, folder = own
    assert deployment.run("schedule", "apply").exit_code == 0
    _edit(folder / "instruments" / "core.toml", "How safe does she feel now?", "How safe now?")
    changes = json.loads(deployment.run("schedule", "plan", "--format", "json").out)
    [change] = changes["instrument_changes"]
    assert change["instrument"] == "core" and change["scores_redefined"] == []


def test_a_protocol_naming_a_missing_instrument_is_refused_with_file_and_key(own):
    deployment, folder = own
    _edit(
        folder / "undp-serbia.toml",
        'subject = "partner"',
        'subject = "partner"\ninstrument = "cts-nine"',
    )
    result = deployment.run("schedule", "plan")
    assert result.exit_code != 0
    assert "undp-serbia.toml: checkpoints[" in result.err
    assert '.instrument: no instrument "cts-nine"' in result.err
    assert "partner-followup" in result.err  # the ones there are


def test_a_deployment_without_its_own_instruments_uses_the_shipped_ones(make_deployment, tmp_path):
    folder = tmp_path / "schedules"
    folder.mkdir()
    shutil.copy(SCHEDULES / "undp-serbia.toml", folder)
    deployment = make_deployment(protocols_dir=folder, active=("undp-serbia",))
    book = deployment.run("codebook", "--format", "json")
    assert book.exit_code == 0, book.err
    assert {b["id"] for b in json.loads(book.out)} >= {"core", "risk-checklist"}


def test_the_codebook_lists_every_revision_answers_may_be_in_and_marks_the_one_in_force(own):
    deployment, folder = own
    assert deployment.run("schedule", "apply").exit_code == 0
    first = deployment.ctx.instruments["risk-checklist"].revision
    path = folder / "instruments" / "risk-checklist.toml"
    _edit(path, "at_least = 14", "at_least = 15")
    deployment._ctx = None
    assert deployment.run("schedule", "apply").exit_code == 0
    second = deployment.ctx.instruments["risk-checklist"].revision
    _edit(path, "at_least = 15", "at_least = 16")
    deployment._ctx = None
    third = deployment.ctx.instruments["risk-checklist"].revision

    book = json.loads(deployment.run("codebook", "--format", "json").out)
    risk = {b["revision"]: b["status"] for b in book if b["id"] == "risk-checklist"}
    assert risk == {
        first: "earlier revision",
        second: "in force",
        third: "file not yet applied",
    }
    markdown = deployment.run("codebook").out
    assert f"revision `{second}`, in force)" in markdown
