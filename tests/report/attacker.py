"""An attacker of a suppressed report, built from the published JSON alone.

Independent of followup.report.disclosure on purpose: it reads the report as an evaluator
receives it, writes down every linear relation the figures obey by their definitions
(docs/report.md), and asks `scipy.optimize.linprog` how far each hidden count can move.
A count shown is a constant; a hidden one an unknown >= 0.

`findings(report)` lists every hidden count the attacker narrows more than the rule
allows (docs/report.md, "Small-cell suppression"): a count hidden as small (`<T`) must
keep an interval at least T wide; one hidden to protect others must not be worked out
exactly; the events after a survival curve stops (among the fewer than T still at risk)
must keep their whole range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog

SLACK = 1e-6


@dataclass
class Cell:
    name: str
    value: int | None  # None: hidden
    reason: str | None = None  # small | complementary (hidden counts)
    sensitive: bool = True  # a curve's events and censorings are protected by the curve rule
    cap: float | None = None  # a published upper bound (the events after a curve stops)


@dataclass
class System:
    cells: dict[str, Cell] = field(default_factory=dict)
    equal: list[tuple[dict[str, float], float]] = field(default_factory=list)
    extra_unknowns: list[str] = field(default_factory=list)

    def read(
        self, obj: dict[str, Any] | None, key: str, name: str, *, sensitive: bool = True
    ) -> str | None:
        """The count `obj[key]` as a cell named `name` (None when the report has no such
        figure). The same name read twice is the same count in two places."""
        if obj is None or key not in obj:
            return None
        hidden = key in obj.get("suppressed_fields", ())
        if not hidden and obj[key] is None:
            return None
        reason = (obj.get("suppressed_reasons") or {}).get(key, "small") if hidden else None
        if name not in self.cells:
            self.cells[name] = Cell(name, None if hidden else int(obj[key]), reason, sensitive)
        return name

    def unknown(self, name: str, cap: float | None = None, sensitive: bool = True) -> str:
        """A count the report never shows, but whose relations it publishes."""
        self.cells[name] = Cell(name, None, "small", sensitive, cap)
        self.extra_unknowns.append(name)
        return name

    def relate(self, terms: dict[str | None, float], constant: float = 0.0) -> None:
        """sum(coefficient * cell) == constant, skipped when a figure is absent."""
        if None in terms:
            return
        self.equal.append(({k: v for k, v in terms.items() if k is not None}, constant))

    def total(self, total: str | None, parts: list[str | None]) -> None:
        if total is None or any(p is None for p in parts) or not parts:
            return
        terms: dict[str | None, float] = {total: 1.0}
        for part in parts:
            terms[part] = terms.get(part, 0.0) - 1.0
        self.relate(terms)

    # --- the attack ------------------------------------------------------------------

    def _component(self, name: str) -> tuple[list[str], list[tuple[dict[str, float], float]]]:
        """The unknowns tied to `name` through relations, and those relations: the rest of
        the system constrains nothing here (an LP over it alone gives the same interval)."""
        hidden = {n for n, c in self.cells.items() if c.value is None}
        of: dict[str, list[int]] = {}
        for k, (terms, _constant) in enumerate(self.equal):
            for cell in terms:
                if cell in hidden:
                    of.setdefault(cell, []).append(k)
        seen, todo, used = {name}, [name], set()
        while todo:
            for k in of.get(todo.pop(), ()):
                if k in used:
                    continue
                used.add(k)
                for cell in self.equal[k][0]:
                    if cell in hidden and cell not in seen:
                        seen.add(cell)
                        todo.append(cell)
        return sorted(seen), [self.equal[k] for k in sorted(used)]

    def interval(self, name: str) -> tuple[float, float]:
        unknowns, equal = self._component(name)
        index = {n: i for i, n in enumerate(unknowns)}
        rows, rhs = [], []
        for terms, constant in equal:
            row = np.zeros(len(unknowns))
            b = constant
            for cell, coefficient in terms.items():
                value = self.cells[cell].value
                if value is None:
                    row[index[cell]] += coefficient
                else:
                    b -= coefficient * value
            if row.any():
                rows.append(row)
                rhs.append(b)
        bounds = [(0, self.cells[n].cap) for n in unknowns]
        target = np.zeros(len(unknowns))
        target[index[name]] = 1.0
        found = []
        for sign in (1.0, -1.0):
            if not rows:
                found.append(0.0 if sign > 0 else (bounds[index[name]][1] or np.inf))
                continue
            result = linprog(sign * target, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
            if result.status == 3:
                found.append(-np.inf if sign > 0 else np.inf)
            else:
                assert result.status == 0, f"the published figures contradict: {result.message}"
                found.append(sign * result.fun)
        return found[0], found[1]


def system(report: dict[str, Any]) -> System:
    s = System()
    _cohort(s, report["cohort"])
    _retention(s, report["retention"])
    _followup(s, report["followup"])
    _non_violence(s, report["non_violence"])
    _agreement(s, report["agreement"])
    _survival(s, report)
    _instruments(s, report.get("instruments") or {}, report["non_violence"])
    return s


def findings(report: dict[str, Any]) -> list[str]:
    """Hidden counts the attacker pins down more than the rule allows."""
    threshold = report["suppression"]["threshold"]
    s = system(report)
    found = []
    for name, cell in s.cells.items():
        if cell.value is not None or not cell.sensitive:
            continue
        low, high = s.interval(name)
        if cell.cap is not None:
            need = min(threshold, cell.cap)
        elif cell.reason == "small":
            need = threshold
        else:
            need = 1
        if name in s.extra_unknowns and high >= threshold:
            continue  # never shown, and for all anyone can tell not small
        if high - low < need - SLACK:
            found.append(f"{name}: between {low:g} and {high:g} ({cell.reason})")
    return found


# --- the relations, table by table (docs/report.md) ---------------------------------------


def _cohort(s: System, c: dict[str, Any]) -> None:
    def r(key: str) -> str | None:
        return s.read(c, key, f"cohort.{key}")

    s.total(
        r("enrolled"),
        [r(k) for k in ("awaiting_admission", "in_programme", "completed", "dropped_out",
                        "excluded", "transferred")],
    )  # fmt: skip
    s.total(r("enrolled"), [r("admitted"), r("awaiting_admission"), r("left_before_admission")])
    s.total(r("admitted"), [r("in_programme"), r("completed"), r("left_after_admission")])


def _retention_row(s: System, obj: dict[str, Any], prefix: str) -> None:
    def r(key: str) -> str | None:
        return s.read(obj, key, f"{prefix}.{key}")

    s.total(r("n"), [r("completed"), r("not_completed")])
    # not completed = no end recorded + left (dropped out or excluded), never shown
    left = s.unknown(f"{prefix}.left")
    s.total(r("not_completed"), [r("no_end_recorded"), left])


def _retention(s: System, retention: dict[str, Any]) -> None:
    _retention_row(s, retention, "retention")
    # the cohort's completions: every completer was admitted and is counted
    s.total(s.read(retention, "completed", "retention.completed"), ["cohort.completed"])
    for by in ("by_site", "by_referral_source"):
        groups = retention[by]
        for name, group in groups.items():
            _retention_row(s, group, f"retention.{by}.{name}")
        for key in ("n", "completed", "not_completed", "no_end_recorded"):
            s.total(
                f"retention.{key}",
                [s.read(g, key, f"retention.{by}.{name}.{key}") for name, g in groups.items()],
            )
        s.total("retention.left", [f"retention.{by}.{name}.left" for name in groups])


def _followup(s: System, table: dict[str, Any]) -> None:
    for checkpoint, by_informant in table.items():
        for who, f in by_informant.items():
            prefix = f"followup.{checkpoint}.{who}"

            def r(key: str, f=f, prefix=prefix) -> str | None:
                return s.read(f, key, f"{prefix}.{key}")

            ended = [r("unreachable"), r("refused"), r("missed")]
            s.total(r("due"), [r("in_window"), r("late"), *ended, r("open")])
            s.total(r("done"), [r("in_window"), r("late")])
            s.total(r("done_or_missed"), [r("done"), *ended])
            r("cancelled")  # not in due: a count on its own
            # attempted <= due and attempts >= attempted, by definition (the slacks are
            # no figure of their own)
            s.total(
                r("due"), [r("attempted"), s.unknown(f"{prefix}.not_attempted", sensitive=False)]
            )
            s.total(r("attempts"), [r("attempted"), s.unknown(f"{prefix}.more", sensitive=False)])


def _non_violence(s: System, table: dict[str, Any]) -> None:
    for checkpoint, by_informant in table.items():
        for who, e in by_informant.items():
            prefix = f"non_violence.{checkpoint}.{who}"
            s.total(
                s.read(e, "n", f"{prefix}.n"),
                [s.read(e, "non_violent", f"{prefix}.non_violent"),
                 s.read(e, "violent", f"{prefix}.violent")],
            )  # fmt: skip
            s.read(e, "not_asked", f"{prefix}.not_asked")
            # a follow-up with no interview is the follow-up table's unreachable, refused
            # or missed
            row = f"followup.{checkpoint}.{who}"
            s.total(
                s.read(e, "no_interview", f"{prefix}.no_interview"),
                [f"{row}.{k}" if f"{row}.{k}" in s.cells else None
                 for k in ("unreachable", "refused", "missed")],
            )  # fmt: skip
            _bounds(s, e.get("bounds"), f"{prefix}.n", row, prefix)
            for kind, t in e["by_type"].items():
                p = f"{prefix}.{kind}"
                s.total(
                    s.read(t, "n", f"{p}.n"),
                    [s.read(t, "none_reported", f"{p}.none_reported"),
                     s.read(t, "reported", f"{p}.reported")],
                )  # fmt: skip
                _bounds(s, t.get("bounds"), f"{p}.n", row, p)


def _bounds(s: System, b: dict[str, Any] | None, n: str, row: str, prefix: str) -> None:
    """The bounds' ended is the follow-up row's done_or_missed; ended = n + not reached."""
    if not b:
        return
    ended = s.read(b, "ended", f"{row}.done_or_missed")
    s.total(ended, [n if n in s.cells else None, s.read(b, "not_reached", f"{prefix}.not_reached")])


def _agreement(s: System, table: dict[str, Any]) -> None:
    for checkpoint, a in table.items():
        p = f"agreement.{checkpoint}"

        def r(key: str, a=a, p=p) -> str | None:
            return s.read(a, key, f"{p}.{key}")

        s.total(r("n"), [r("agree"), r("disagree")])
        s.total(r("agree"), [r("both_non_violent"), r("both_violent")])
        s.total(
            r("disagree"),
            [r("only_partner_reports_violence"), r("only_participant_reports_violence")],
        )


def _survival(s: System, report: dict[str, Any]) -> None:
    for name in ("recidivism", "dropout"):
        section = report["survival"][name]
        entries = {"overall": section["overall"], **section.get("groups", {})}
        for label, entry in entries.items():
            p = f"{name}.{label}"
            n = s.read(entry, "n", f"{p}.n")
            events = s.read(entry, "events", f"{p}.events", sensitive=False)
            censored = s.read(entry, "censored", f"{p}.censored", sensitive=False)
            s.total(n, [events, censored])
            _curve_events(s, entry, events, p)
        overall = section["overall"]
        if section.get("groups"):
            rest = overall.get("not_in_a_group") or {}
            for key in ("n", "events"):
                parts = [
                    f"{name}.{label}.{key}" if f"{name}.{label}.{key}" in s.cells else None
                    for label in section["groups"]
                ]
                if rest:
                    parts.append(
                        s.read(rest, key, f"{name}.not_in_a_group.{key}", sensitive=key == "n")
                    )
                s.total(f"{name}.overall.{key}", parts)
        if "no_contact_after_origin" in overall:
            s.total(
                f"{name}.overall.censored",
                [s.read(overall, "no_contact_after_origin", f"{name}.no_contact"),
                 s.read(overall, "censored_at_last_contact", f"{name}.censored_at_contact")],
            )  # fmt: skip
    recidivism = report["survival"]["recidivism"]
    dropout = report["survival"]["dropout"]
    s.total("dropout.overall.n", ["cohort.admitted"])
    if recidivism["origin"] == "completion":
        s.total("recidivism.overall.n", ["cohort.completed"])
        if recidivism["by"] in ("site", "referral_source"):
            by = report["retention"][f"by_{recidivism['by']}"]
            for label in recidivism.get("groups", {}):
                if label in by:
                    s.total(
                        f"recidivism.{label}.n",
                        [f"retention.by_{recidivism['by']}.{label}.completed"],
                    )
    risks = dropout.get("competing_risks") or {}
    if "completed" in risks:
        completed = s.read(risks["completed"], "events", "dropout.completions", sensitive=False)
        s.total(completed, ["retention.completed"])
        still = s.read(risks, "censored", "dropout.still_in", sensitive=False)
        s.total("dropout.overall.n", ["dropout.overall.events", completed, still])


def _curve_events(s: System, entry: dict[str, Any], events: str | None, prefix: str) -> None:
    """A shown curve shows its events step by step; after it stops (fewer than T at risk)
    at most those still at risk can have one."""
    curve = entry.get("curve")
    if not curve or events is None:
        return
    shown = sum(point["events"] for point in curve)
    last = curve[-1]
    still = last["at_risk"] - last["events"]
    if entry.get("curve_truncated"):
        after = s.unknown(f"{prefix}.events_after_curve", cap=still)
        s.relate({events: 1.0, after: -1.0}, float(shown))
    else:
        s.relate({events: 1.0}, float(shown))


# --- the instruments section (issue 14) ---------------------------------------------------

MISSING = ("dont_know", "refused", "not_asked", "not_applicable")


def _pools(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A score's or item's figures: one pool, or one per definition when it changed."""
    if entry.get("definition_changed"):
        return list(entry["by_definition"].items())
    return [("", entry)]


def _instruments(s: System, sections: dict[str, Any], non_violence: dict[str, Any]) -> None:
    for inst, section in sections.items():
        base = f"instruments.{inst}"

        for score, entry in section.get("scores", {}).items():
            for definition, pool in _pools(entry):
                p = f"{base}.scores.{score}.{definition}"
                for checkpoint, by_informant in pool["by_checkpoint"].items():
                    for who, cell in by_informant.items():
                        q = f"{p}.{checkpoint}.{who}"
                        n = s.read(cell, "n", f"{q}.n")
                        total = _asked(s, base, pool, checkpoint, who)
                        s.total(total, [n, s.read(cell, "withheld", f"{q}.withheld")])
                        bands = {k: v for k, v in (cell.get("bands") or {}).items()
                                 if k not in SUPPRESSION_KEYS}  # fmt: skip
                        if bands:
                            s.total(n, [s.read(cell["bands"], b, f"{q}.band.{b}") for b in bands])
                for checkpoint, by_informant in pool.get("change", {}).items():
                    for who, cell in by_informant.items():
                        q = f"{p}.change.{checkpoint}.{who}"
                        if "moved_down" in cell:
                            s.total(
                                s.read(cell, "n", f"{q}.n"),
                                [s.read(cell, k, f"{q}.{k}")
                                 for k in ("moved_down", "same_band", "moved_up")],
                            )  # fmt: skip
        for item, entry in section.get("items", {}).items():
            for definition, pool in _pools(entry):
                p = f"{base}.items.{item}.{definition}"
                for checkpoint, by_informant in pool["by_checkpoint"].items():
                    for who, cell in by_informant.items():
                        q = f"{p}.{checkpoint}.{who}"
                        n = s.read(cell, "n", f"{q}.n")
                        s.total(n, [s.read(cell, "reported", f"{q}.reported"),
                                    s.read(cell, "not_reported", f"{q}.not_reported")])  # fmt: skip
                        missing = cell["missing"]
                        total = _asked(s, base, pool, checkpoint, who)
                        s.total(
                            total,
                            [n, *(s.read(missing, m, f"{q}.{m}") for m in MISSING if m in missing)],
                        )
        for pair, by_checkpoint in section.get("agreement", {}).items():
            for checkpoint, cell in by_checkpoint.items():
                q = f"{base}.agreement.{pair}.{checkpoint}"
                s.total(s.read(cell, "n", f"{q}.n"),
                        [s.read(cell, "agree", f"{q}.agree"),
                         s.read(cell, "disagree", f"{q}.disagree")])  # fmt: skip
    _instrument_types(s, sections, non_violence)


def _asked(s: System, base: str, pool: dict[str, Any], checkpoint: str, who: str) -> str:
    """The interviews of the pool's revisions at the checkpoint, never shown: every score's
    n and withheld, and every item's n and missing codes, add up to it."""
    key = f"{base}.asked.{','.join(pool['revisions'])}.{checkpoint}.{who}"
    return key if key in s.cells else s.unknown(key)


SUPPRESSION_KEYS = ("suppressed", "suppressed_fields", "suppressed_reasons")


def _instrument_types(s: System, sections: dict[str, Any], non_violence: dict[str, Any]) -> None:
    """Where only the core instrument was asked at a checkpoint (its interviews are all of
    that checkpoint's), non-violence's counts per type are its items' counts."""
    for checkpoint, by_informant in non_violence.items():
        for who, entry in by_informant.items():
            asked = [
                i for i, sec in sections.items()
                if any(who in pool["by_checkpoint"].get(checkpoint, {})
                       for entry in sec.get("items", {}).values() for _d, pool in _pools(entry))
            ]  # fmt: skip
            if asked != ["core"]:
                continue
            items = sections["core"].get("items", {})
            for kind in entry["by_type"]:
                item = items.get(kind)
                if not item or item.get("definition_changed"):
                    continue
                cell = item["by_checkpoint"].get(checkpoint, {}).get(who)
                if cell is None:
                    continue
                q = f"instruments.core.items.{kind}..{checkpoint}.{who}"
                p = f"non_violence.{checkpoint}.{who}.{kind}"
                for mine, theirs in (("n", "n"), ("reported", "reported"),
                                     ("not_reported", "none_reported")):  # fmt: skip
                    if f"{q}.{mine}" in s.cells and f"{p}.{theirs}" in s.cells:
                        s.total(f"{p}.{theirs}", [f"{q}.{mine}"])
