"""A synthetic cohort imported through the CSV contract, and helpers to read reports.

Time is frozen at 2026-11-24 10:00 UTC, so the seeded cohort (whose dates are drawn back
from "today") is the same cohort on every run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from followup.synthetic import Cohort, cohort

TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with freeze_time("2026-11-24 10:00:00"):
        yield


def import_cohort(deployment, data: Cohort) -> None:
    files = data.write(deployment.folder / "cohort")
    for kind in ("staff", "participants", "partners", "events"):
        result = deployment.run("import", kind, str(files[kind]))
        assert result.exit_code == 0, result.err


def synthetic(deployment, sites: dict[str, str], n: int, seed: int, prefix: str = "P") -> Cohort:
    """`followup.synthetic.cohort`, with partner ids under `prefix` so two can be merged."""
    data = cohort(deployment.ctx.protocols, sites, n, TODAY, seed=seed)
    if prefix != "P":
        for row in data.partners:
            row["partner_id"] = prefix + row["partner_id"][1:]
        for row in data.events:
            if row.get("partner_id"):
                row["partner_id"] = prefix + row["partner_id"][1:]
    return data


def merged(*parts: Cohort) -> Cohort:
    out = Cohort()
    for part in parts:
        out.staff += part.staff
        out.participants += part.participants
        out.partners += part.partners
        out.events += part.events
    return out


@pytest.fixture
def imported(deployment):
    """400 participants at BG and NS, with partners, interviews and outcomes."""
    import_cohort(deployment, synthetic(deployment, {"BG": "sr-Latn", "NS": "en"}, 400, seed=11))
    return deployment


@pytest.fixture
def small_site(deployment):
    """250 participants at BG and three at NS: NS is a small cell everywhere."""
    big = synthetic(deployment, {"BG": "sr-Latn"}, 250, seed=5)
    small = synthetic(deployment, {"NS": "en"}, 3, seed=6, prefix="Q")
    import_cohort(deployment, merged(big, small))
    return deployment


def report_json(deployment, *args: str) -> dict:
    result = deployment.run("report", "--format", "json", *args)
    assert result.exit_code == 0, result.err
    return json.loads(result.out)


def report_csv(deployment, *args: str) -> list[dict[str, str]]:
    result = deployment.run("report", "--format", "csv", *args)
    assert result.exit_code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
