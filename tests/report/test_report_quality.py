"""A record that contradicts itself (an older database, a direct SQL edit) never takes the
report down: the person is left out of the measures it would distort and counted in the
report's data_quality section, in every format; case ids for administrators only."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from followup.models import Participant

from .conftest import report_json


def broken_by_hand(deployment) -> tuple[str, str]:
    """Two records edited in SQL, past every check: a dropout dated three days before his
    admission (which crashed every report: "durations must be >= 0 days"), and a
    completion whose admission was deleted."""
    p = Participant.__table__
    with deployment.session() as session:
        conn = session.connection()
        dropout = conn.execute(
            sa.select(p.c.id, p.c.case_id, p.c.admitted_on)
            .where(p.c.end_reason == "dropped_out", p.c.admitted_on.is_not(None))
            .order_by(p.c.id)
            .limit(1)
        ).one()
        conn.execute(
            p.update()
            .where(p.c.id == dropout.id)
            .values(ended_on=dropout.admitted_on - timedelta(days=3))
        )
        completed = conn.execute(
            sa.select(p.c.id, p.c.case_id)
            .where(p.c.completed_on.is_not(None))
            .order_by(p.c.id)
            .limit(1)
        ).one()
        conn.execute(p.update().where(p.c.id == completed.id).values(admitted_on=None))
    return dropout.case_id, completed.case_id


@pytest.fixture
def broken(imported):
    before = report_json(imported, "--no-suppress")
    return imported, before, broken_by_hand(imported)


def test_an_ending_before_the_admission_leaves_him_out_of_the_measures_it_would_break(broken):
    deployment, before, (dropout, completed) = broken
    after = report_json(deployment, "--no-suppress")
    q = after["data_quality"]
    assert q["people"] == 2
    assert q["problems"]["status_order"]["people"] == 1
    assert q["problems"]["status_order"]["case_ids"] == [dropout]
    assert q["problems"]["completed_without_admission"]["case_ids"] == [completed]
    assert q["left_out"] == {"cohort": 1, "retention": 2, "survival": 2}
    assert after["cohort"]["enrolled"] == before["cohort"]["enrolled"] - 1
    dropouts = after["survival"]["dropout"]["overall"]
    assert dropouts["n"] == before["survival"]["dropout"]["overall"]["n"] - 2
    assert dropouts["events"] == before["survival"]["dropout"]["overall"]["events"] - 1
    assert before["data_quality"]["people"] == 0


def test_an_evaluator_sees_data_quality_under_the_small_cell_rule_and_never_case_ids(broken):
    deployment, _, (dropout, completed) = broken
    q = report_json(deployment)["data_quality"]
    assert q["people"] is None and "people" in q["suppressed_fields"]
    assert q["problems"]["status_order"]["people"] is None
    assert all("case_ids" not in entry for entry in q["problems"].values())
    for fmt in ("text", "csv", "html"):
        result = deployment.run("report", "--format", fmt)
        assert result.exit_code == 0, result.err
        assert dropout not in result.out and completed not in result.out
        assert "<5 people whose status record breaks a rule" in result.out or fmt != "text"


@pytest.mark.parametrize("fmt", ["text", "json", "html", "csv"])
def test_every_format_still_renders_and_names_the_broken_records_for_administrators(broken, fmt):
    deployment, _, (dropout, completed) = broken
    result = deployment.run("report", "--format", fmt, "--no-suppress", "--by", "site")
    assert result.exit_code == 0, result.err
    if fmt == "text":
        assert "Data quality: 2 people whose status record breaks a rule are left out" in result.out
        assert f"status dates out of programme order: 1 ({dropout})" in result.out
    elif fmt == "json":
        assert json.loads(result.out)["data_quality"]["people"] == 2
    elif fmt == "html":
        assert "<h2>Data quality</h2>" in result.out
        assert dropout in result.out and completed in result.out
    else:
        rows = list(csv.DictReader(io.StringIO(result.out)))
        people = [r for r in rows if r["measure"] == "data_quality_people"]
        assert [r["count"] for r in people] == ["2"]
        cases = {(r["group_by"], r["group"]) for r in rows if r["measure"] == "data_quality_case"}
        assert cases == {("status_order", dropout), ("completed_without_admission", completed)}
