"""The report's outputs pinned byte for byte on a fixed cohort, so a refactoring of how the
report is built (typed sections, one serialiser) cannot change what users and evaluators
receive. The cohort is the committed CSV files under snapshot/cohort (64 men: 60 at BG, 4 at
NS, so the small-cell rules bite); time is frozen by conftest.

A deliberate change of the JSON contract, the CSV columns, the text summary or the HTML regenerates
the snapshots with REGENERATE_REPORT_SNAPSHOTS=1 and says so in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshot"
VARIANTS = {
    "json": ("--format", "json"),
    "json-no-suppress": ("--format", "json", "--no-suppress"),
    "json-by-site": ("--format", "json", "--by", "site"),
    "json-by-site-no-suppress": ("--format", "json", "--by", "site", "--no-suppress"),
    "csv-by-site": ("--format", "csv", "--by", "site"),
    "csv-by-site-no-suppress": ("--format", "csv", "--by", "site", "--no-suppress"),
    "text-by-site": ("--format", "text", "--by", "site"),
    "text-by-site-no-suppress": ("--format", "text", "--by", "site", "--no-suppress"),
    "html-by-site": ("--format", "html", "--by", "site"),
    "html-by-site-no-suppress": ("--format", "html", "--by", "site", "--no-suppress"),
}
SUFFIX = {"json": "json", "csv": "csv", "text": "txt", "html": "html"}


@pytest.fixture
def fixed(deployment):
    folder = SNAPSHOTS / "cohort"
    for kind in ("staff", "participants", "partners", "events"):
        result = deployment.run("import", kind, str(folder / f"{kind}.csv"))
        assert result.exit_code == 0, result.err
    return deployment


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_report_output_on_the_fixed_cohort_is_unchanged(fixed, variant):
    args = VARIANTS[variant]
    result = fixed.run("report", *args)
    assert result.exit_code == 0, result.err
    path = SNAPSHOTS / f"{variant}.{SUFFIX[args[1]]}"
    if os.environ.get("REGENERATE_REPORT_SNAPSHOTS") == "1":
        path.write_text(result.out, encoding="utf-8")
    assert result.out == path.read_text(encoding="utf-8"), f"{path.name} differs"
