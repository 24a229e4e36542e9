"""A small site in every format: <5 in HTML and CSV, null with a flag in JSON, and nothing
suppressed that can be worked back from a total."""

from __future__ import annotations

import json

import sqlalchemy as sa

from followup.models import Audit

from .conftest import report_csv, report_json

T = 5


def is_hidden(obj: dict, key: str) -> bool:
    hidden = key in obj.get("suppressed_fields", [])
    assert (obj.get(key) is None) or not hidden
    if hidden:
        assert obj["suppressed"] is True
    return hidden


def assert_sum_is_safe(total: tuple[dict, str], parts: list[tuple[dict, str]]) -> None:
    """No hidden member of `total = sum(parts)` can be worked out from the others."""
    members = [total, *parts]
    if total[0].get(total[1]) == 0:
        return  # an empty table (a violence type nobody was asked) describes nobody
    hidden = [m for m in members if is_hidden(*m)]
    assert len(hidden) != 1, f"one hidden cell in a sum gives itself away: {hidden}"
    for obj, key in members:
        value = obj.get(key)
        assert value is None or value >= T, f"{key}={value} is shown but below {T}"


def test_a_small_site_is_suppressed_in_json_with_nulls_and_flags(small_site):
    report = report_json(small_site, "--by", "site")
    ns = report["retention"]["by_site"]["NS"]
    assert ns["n"] is None and ns["completion_rate"] is None and ns["ci"] is None
    assert ns["suppressed"] is True
    assert {"n", "completion_rate", "ci"} <= set(ns["suppressed_fields"])
    group = report["survival"]["recidivism"]["groups"]["NS"]
    assert group["n"] is None and group["curve"] is None and group["median"] is None
    assert report["survival"]["recidivism"]["overall"]["n"] is not None


def test_complementary_suppression_leaves_no_hidden_count_recoverable(small_site):
    report = report_json(small_site, "--by", "site")
    retention = report["retention"]
    for cell in ("n", "completed", "not_completed"):
        assert_sum_is_safe((retention, cell), [(g, cell) for g in retention["by_site"].values()])
    # the big site is hidden too: otherwise NS = everyone - BG
    assert retention["by_site"]["BG"]["n"] is None and retention["n"] is not None
    for obj in (retention, *retention["by_site"].values()):
        assert_sum_is_safe((obj, "n"), [(obj, "completed"), (obj, "not_completed")])
    c = report["cohort"]
    assert_sum_is_safe(
        (c, "enrolled"),
        [
            (c, k)
            for k in (
                "awaiting_admission",
                "in_programme",
                "completed",
                "dropped_out",
                "excluded",
                "transferred",
            )
        ],
    )
    assert_sum_is_safe(
        (c, "admitted"), [(c, k) for k in ("in_programme", "completed", "left_after_admission")]
    )
    for by_informant in report["followup"].values():
        for f in by_informant.values():
            outcomes = ("in_window", "late", "unreachable", "refused", "missed", "open")
            assert_sum_is_safe((f, "due"), [(f, k) for k in outcomes])
            ended = ("done", "unreachable", "refused", "missed")
            assert_sum_is_safe((f, "done_or_missed"), [(f, k) for k in ended])
    for by_informant in report["non_violence"].values():
        for e in by_informant.values():
            assert_sum_is_safe((e, "n"), [(e, "non_violent"), (e, "violent")])
            if e["bounds"]:
                assert_sum_is_safe((e["bounds"], "ended"), [(e, "n"), (e["bounds"], "not_reached")])
            for t in e["by_type"].values():
                assert_sum_is_safe((t, "n"), [(t, "none_reported"), (t, "reported")])
                if t["bounds"]:
                    assert_sum_is_safe(
                        (t["bounds"], "ended"), [(t, "n"), (t["bounds"], "not_reached")]
                    )
    for a in report["agreement"].values():
        assert_sum_is_safe((a, "n"), [(a, "agree"), (a, "disagree")])
        assert_sum_is_safe((a, "agree"), [(a, "both_non_violent"), (a, "both_violent")])
    for name in ("recidivism", "dropout"):
        s = report["survival"][name]
        for cell in ("n", "events"):
            assert_sum_is_safe((s["overall"], cell), [(g, cell) for g in s["groups"].values()])


def test_a_curve_stops_where_fewer_than_the_threshold_are_at_risk(small_site):
    report = report_json(small_site, "--by", "site")
    for name in ("recidivism", "dropout"):
        for entry in [
            report["survival"][name]["overall"],
            *report["survival"][name]["groups"].values(),
        ]:
            for point in entry["curve"] or []:
                assert point["at_risk"] >= T
            for point in entry["at_risk_table"]:
                assert point["at_risk"] is None or point["at_risk"] >= T


def test_a_small_site_shows_below_the_threshold_in_csv(small_site):
    rows = report_csv(small_site, "--by", "site")
    ns = next(r for r in rows if r["measure"] == "completion_rate" and r["group"] == "NS")
    assert (
        ns["n"] == "<5" and ns["value"] == "" and ns["ci_low"] == "" and ns["suppressed"] == "true"
    )
    for row in rows:
        for column in ("n", "count"):
            if row["n"] == "0":
                continue  # an empty table (a violence type nobody was asked) describes nobody
            if row[column] not in ("", "<5", "suppressed") and not row["measure"].endswith(
                ("_km", "_cif_completed", "_cif_dropped_out")
            ):
                assert int(row[column]) >= T, row


def test_a_small_site_shows_below_the_threshold_in_html(small_site):
    result = small_site.run("report", "--format", "html", "--by", "site")
    assert result.exit_code == 0, result.err
    row = result.out.split("<td>NS</td>", 1)[1].split("</tr>", 1)[0]
    assert "&lt;5" in row
    assert "Small cells are suppressed" in result.out


def test_a_report_of_the_small_site_alone_hides_nearly_everything(small_site):
    report = report_json(small_site, "--site", "NS")
    assert report["cohort"]["enrolled"] is None
    assert report["retention"]["completion_rate"] is None
    assert report["survival"]["recidivism"]["overall"]["curve"] is None


def test_no_suppress_shows_every_count_and_is_audited_as_unsuppressed(small_site):
    result = small_site.run("report", "--format", "json", "--by", "site", "--no-suppress")
    assert result.exit_code == 0
    assert "NOT suppressed" in result.err
    report = json.loads(result.out)
    assert report["retention"]["by_site"]["NS"]["n"] is not None
    assert "suppressed" not in json.dumps(report["retention"])
    assert report["suppression"] == {"applied": False, "threshold": None}
    with small_site.session() as session:
        rows = session.execute(
            sa.select(Audit.actor, Audit.detail).where(Audit.action == "report_export")
        ).all()
    details = [json.loads(detail) for _, detail in rows]
    assert details[-1]["suppress"] is False and details[-1]["by"] == "site"
    assert details[-1]["format"] == "json"
