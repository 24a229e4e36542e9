"""Small-cell suppression: what an evaluator may see of a report.

A report is built as a tree of dicts and lists whose leaves are `Count`s (a number of
people or records), `Derived` values (a rate, a CI, a median: computed from counts) and
plain values. `Disclosure` knows every count and every linear relation the report
publishes between counts (a total and its parts, the same count in two tables, the events
a shown survival curve adds up to). `suppress()` then hides:

1. every count below the threshold, zero included ("none of the 12 partners reported
   violence" tells as much about each of them as "three did"): reason `small` (`<5`);
2. complementary cells (reason `complementary`), until no hidden count can be worked out
   from what the report publishes. The attacker is the standard one of statistical
   disclosure control: linear programming (`scipy.optimize.linprog`, the LP relaxation)
   over every published figure and every declared relation, counts >= 0. A count hidden
   as small, and a never-shown count below the threshold inside a relation (e.g. the men
   who left, inside "not completed"), is safe when max - min >= T (for one the report
   bounds anyway, `cap`: that whole range); a count hidden to protect others (at least T,
   not sensitive itself) when it is not worked out exactly (max - min >= 1). A curve's
   events and censorings (`primary=False`) are shown step by step by the curve, so they
   are hidden only to protect others and need no protection of their own. While a count
   is unsafe, one more shown count in a relation with it is hidden: the cheapest that
   makes it safe on its own, else the one that widens it most; cheapest looking one step
   ahead (a count that would be left alone among shown ones elsewhere needs a partner
   too), then by what it feeds (rates, headlines), then the smallest. Twins (the same
   number in two tables) are hidden together;
3. every derived value that depends on a hidden count.

The audit runs only over the published counts and their relations (a few hundred, split
into independent groups), never over the data, so its cost does not grow with the cohort.

A node may also be a typed section (sections.py), whose fields are its keys.
`export(tree)` turns the tree into JSON: a hidden value becomes null, and the object that
holds it gets `"suppressed": true`, `"suppressed_fields": [names]` and, for hidden counts,
`"suppressed_reasons": {name: "small" | "complementary"}`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SMALL = "small"
COMPLEMENTARY = "complementary"
HEADLINE_COST = 100  # a count a headline figure is computed from
DERIVED_COST = 10  # a count a rate, interval or curve is computed from
TOLERANCE = 1e-6
FRUITLESS_STEPS = 3  # cells hidden for a count without widening it, before giving up on it


@dataclass(eq=False)
class Count:
    value: int
    suppressed: bool = False
    primary: bool = True  # hidden when below the threshold (False: protected by another rule)
    internal: bool = False  # never shown; only part of relations
    cap: int | None = None  # internal: an upper bound the report publishes anyway
    cost: int = 1  # what hiding it loses (see HEADLINE_COST, DERIVED_COST)

    def __post_init__(self) -> None:
        self.value = int(self.value)

    def reason(self, threshold: int | None) -> str | None:
        """Why it is hidden: `small` (a count the small-count rule applies to, below the
        threshold: the label `<T` is true), else `complementary` (hidden to protect another)."""
        if not self.suppressed:
            return None
        small = self.primary and threshold is not None and self.value < threshold
        return SMALL if small else COMPLEMENTARY

    def needed_width(self, threshold: int) -> float:
        """How wide the attacker's interval must stay (max - min). A count below the
        threshold: T (the hidden counts it adds up with hold at least T between them), or,
        for a never-shown count the report bounds anyway by `cap`, that whole range. A
        count hidden to protect others (at least T, not sensitive itself): 1, it must not
        be worked out exactly."""
        if self.internal or self.value < threshold:
            return float(threshold if self.cap is None else min(threshold, self.cap))
        return 1.0


@dataclass(eq=False)
class Derived:
    """A value computed from counts; hidden with any of them, or by a rule of its own
    (`hidden`, e.g. a point of a survival curve where fewer than the threshold are at risk)."""

    value: Any
    sources: tuple[Count, ...] = ()
    hidden: bool = False

    @property
    def suppressed(self) -> bool:
        return self.hidden or any(source.suppressed for source in self.sources)

    def reason(self, threshold: int | None) -> str | None:
        """For a derived count (people at risk): `small` when hidden by its own rule (fewer
        than the threshold) or with a small source, else `complementary`."""
        if not self.suppressed:
            return None
        if self.hidden:
            return SMALL
        reasons = {s.reason(threshold) for s in self.sources if s.suppressed}
        return COMPLEMENTARY if COMPLEMENTARY in reasons else SMALL


@dataclass(eq=False)
class Relation:
    """sum(coefficient * count) == constant, published by the report."""

    terms: tuple[tuple[Count, float], ...]
    constant: float = 0.0
    while_shown: Count | None = None  # published only while this count is (e.g. a curve)

    @property
    def published(self) -> bool:
        return self.while_shown is None or not self.while_shown.suppressed


@dataclass
class Audit:
    """The attacker's view after suppression: each hidden count's interval, and whether
    every one of them is at least `threshold` values wide."""

    checked: int = 0
    unsafe: list[Count] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.unsafe


@dataclass
class Disclosure:
    threshold: int | None = None  # None: nothing suppressed (administrators' --no-suppress)
    counts: list[Count] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    audit: Audit | None = None

    @property
    def active(self) -> bool:
        return self.threshold is not None

    # --- declaring -----------------------------------------------------------------

    def count(self, value: int, *, shown: bool = True, primary: bool = True) -> Count:
        """A count in the report; `shown=False` for one that is never shown but belongs to a
        relation (protected when small, as a hidden count is); `primary=False` for one the
        small-count rule does not apply to (a survival curve's events: the curve shows them
        step by step, each among at least the threshold at risk). Both: the slack of an
        inequality the definitions imply (e.g. attempted <= due), never protected itself."""
        cell = Count(value, suppressed=not shown, primary=primary, internal=not shown)
        self.counts.append(cell)
        return cell

    def total(self, total: Count, parts: Iterable[Count]) -> None:
        """Declare that `total` is the sum of `parts` (checked: a wrong sum is a bug)."""
        parts = tuple(parts)
        if total.value != sum(part.value for part in parts):
            raise ValueError(
                f"declared total {total.value} is not the sum of its parts "
                f"{[part.value for part in parts]}"
            )
        if parts:
            self.relations.append(Relation(((total, 1.0), *((p, -1.0) for p in parts))))

    def same(self, first: Count, second: Count) -> None:
        """Two tables' counts of the same people by definition. Declared only when equal
        (data that breaks a definition's premise, e.g. a completion without an admission,
        makes them differ, and then neither gives the other away)."""
        if first is not second and first.value == second.value:
            self.relations.append(Relation(((first, 1.0), (second, -1.0))))

    def beyond(self, cell: Count, shown_part: int, cap: int, shown_with: Count) -> Count:
        """`cell` = a figure the report shows elsewhere (`shown_part`, published while
        `shown_with` is shown) + a rest that is never shown and is at most `cap` (e.g. a
        curve's events: those on its shown steps, and those after it stops among the `cap`
        still at risk). The rest is protected."""
        rest = self.count(cell.value - shown_part, shown=False)
        rest.cap = cap
        self.relations.append(
            Relation(((cell, 1.0), (rest, -1.0)), float(shown_part), while_shown=shown_with)
        )
        return rest

    def derived(self, value: Any, *sources: Count, hidden: bool = False) -> Derived:
        for source in sources:
            source.cost = max(source.cost, DERIVED_COST)
        return Derived(value, tuple(sources), hidden)

    def headline(self, *cells: Count) -> None:
        """Counts a headline figure is computed from: hidden only when nothing else will do."""
        for cell in cells:
            cell.cost = HEADLINE_COST

    def small(self, value: int) -> bool:
        """Whether a count of `value` would be hidden (for rules outside the tree, e.g. cuts)."""
        return self.threshold is not None and value < self.threshold

    # --- suppressing ---------------------------------------------------------------

    def suppress(self) -> None:
        if self.threshold is None:
            return
        self._empty_tables_describe_nobody()
        for cell in self.counts:
            if cell.primary and cell.value < self.threshold:
                cell.suppressed = True
        attacker = _Attacker(self.threshold, self.relations)
        done: set[int] = set()  # safe (and stays so), or nothing left to hide around it
        given_up: list[Count] = []
        while True:
            unsafe = attacker.first_unsafe(self._sensitive(), done)
            if unsafe is None:
                break
            victims = attacker.complement(unsafe)
            if not victims:
                done.add(id(unsafe))
                given_up.append(unsafe)
            for victim in victims:
                victim.suppressed = True
        # Every other hidden count was found safe, and hiding more kept it so.
        self.audit = Audit(
            checked=len(self._sensitive()),
            unsafe=[c for c in given_up if not attacker.safe(c)],
        )

    def _empty_tables_describe_nobody(self) -> None:
        """A table with nobody in it (e.g. a violence type no interview asked about): zeros
        tied only to zeros, never through any relation to a count above zero, tell nothing
        about anyone, so they are shown."""
        nonzero: set[int] = set()
        related: set[int] = set()
        for relation in self.relations:
            related.update(id(c) for c, _ in relation.terms)
        changed = True
        while changed:  # "not empty" spreads through every relation it touches
            changed = False
            for relation in self.relations:
                cells = [c for c, _ in relation.terms]
                if (
                    any(c.value or id(c) in nonzero for c in cells) or relation.constant
                ) and not all(id(c) in nonzero for c in cells):
                    nonzero.update(id(c) for c in cells)
                    changed = True
        for cell in self.counts:
            if cell.value == 0 and id(cell) in related and id(cell) not in nonzero:
                cell.primary = False

    def _protected(self, cell: Count) -> bool:
        t = self.threshold or 0
        if cell.internal:  # primary=False: the slack of an inequality, no figure of its own
            return cell.primary and cell.value < t and cell.needed_width(t) > 0
        return cell.primary  # a curve's events and censorings: hidden only for others

    def _sensitive(self) -> list[Count]:
        """Hidden counts the attacker must not narrow: every published hidden count the
        small-count rule applies to, and every never-shown count below the threshold. (A
        survival curve's event and censored counts are shown step by step by the curve; they
        are hidden only to protect others.)"""
        return [c for c in self.counts if c.suppressed and self._protected(c)]

    def hidden_by_reason(self) -> dict[str, int]:
        """How many published counts are hidden, by reason (each count once)."""
        out = {SMALL: 0, COMPLEMENTARY: 0}
        for cell in self.counts:
            if cell.suppressed and not cell.internal:
                out[cell.reason(self.threshold) or SMALL] += 1
        return out

    def published(self) -> int:
        return sum(1 for cell in self.counts if not cell.internal)


class _Attacker:
    """Linear programming over the published relations: the bounds of each hidden count."""

    def __init__(self, threshold: int, relations: list[Relation]) -> None:
        self.threshold = threshold
        self.relations = relations
        self._last_width = 0.0  # the width the last `safe` found (0: worked out exactly)
        self._fruitless: dict[int, int] = {}  # steps taken for a count that widened nothing
        self.of_cell: dict[int, list[Relation]] = {}
        for relation in relations:
            for cell, _ in relation.terms:
                self.of_cell.setdefault(id(cell), []).append(relation)

    def safe(self, cell: Count) -> bool:
        """Its interval is at least as wide as `needed_width`."""
        need = cell.needed_width(self.threshold) - TOLERANCE
        relations = self._of(cell)
        self._last_width = 0.0
        if any(all(o is cell or not o.suppressed for o, _ in r.terms) for r in relations):
            return need <= 0  # alone among shown counts in a sum: worked out exactly
        cells, component = self._component(cell)
        width = self._last_width = _width(cells, component, cell, self.threshold)
        return width >= need

    def first_unsafe(self, sensitive: list[Count], done: set[int]) -> Count | None:
        # Hiding more only widens the attacker's intervals, so a safe count stays safe.
        for cell in sensitive:
            if id(cell) in done:
                continue
            if self.safe(cell):
                done.add(id(cell))
            else:
                return cell
        return None

    def complement(self, cell: Count) -> list[Count]:
        """The shown counts to hide next so `cell` gets safer: the cheapest that makes it
        safe on its own, else the one that widens its interval most (more will follow).
        A count is hidden with its twins (the same number in another table), since hiding
        one of them alone would hide nothing."""
        lone = [r for r in self._of(cell) if all(o is cell or not o.suppressed for o, _ in r.terms)]
        if lone:  # alone among shown counts: one of them must go, nothing else helps
            relations = lone[:1]
        else:
            cells, _ = self._component(cell)
            relations = [r for hidden in cells for r in self._of(hidden)]
        candidates = {
            id(other): other
            for relation in relations
            for other, _ in relation.terms
            if not other.suppressed
        }
        groups: dict[int, list[Count]] = {}
        for candidate in candidates.values():
            # alone in a sum, one of its partners goes (their own needs come next);
            # otherwise a count is tried with what it would need at once
            group = self.twins(candidate) if lone else self._partnered(self.twins(candidate))
            groups.setdefault(id(group[0]), group)
        ordered = sorted(groups.values(), key=lambda g: (self._loss(g), min(c.value for c in g)))
        self.safe(cell)
        now = self._last_width
        # alone among shown counts: one must go even if it frees nothing yet (another
        # relation may pin it too); otherwise only a count that widens it helps
        best, best_width = (ordered[0] if lone and ordered else []), now
        costly_fix: list[Count] = []
        for group in ordered[:24]:
            for twin in group:
                twin.suppressed = True
            fixed = self.safe(cell)
            width = self._last_width
            for twin in group:
                twin.suppressed = False
            if fixed and self._loss(group) < HEADLINE_COST:
                return group
            if fixed and not costly_fix:
                costly_fix = group  # a headline: only if nothing cheaper makes progress
            elif width > best_width + TOLERANCE and self._loss(group) < HEADLINE_COST:
                best, best_width = group, width
        if best and (best_width > now + TOLERANCE or not costly_fix):
            return best
        # Nothing cheap widens it alone; a pair might (a partner, then the partner's own
        # partner), so a few cheapest steps are tried before a headline goes, or before
        # giving up on it.
        tries = self._fruitless.get(id(cell), 0)
        if ordered and tries < FRUITLESS_STEPS:
            self._fruitless[id(cell)] = tries + 1
            return ordered[0]
        return costly_fix

    def _of(self, cell: Count) -> list[Relation]:
        """The relations `cell` is in that the report publishes as it stands."""
        return [r for r in self.of_cell.get(id(cell), ()) if r.published]

    def _loss(self, group: list[Count]) -> int:
        """What hiding `group` costs, looking one step ahead: its own cost, plus, for each
        relation it would be left alone in among shown counts, the cheapest of those (one
        of them will have to go too)."""
        ids = {id(c) for c in group}
        loss = sum(c.cost for c in group)
        for cell in group:
            for relation in self._of(cell):
                others = [o for o, _ in relation.terms if id(o) not in ids]
                if others and not any(o.suppressed for o in others):
                    loss += min(o.cost for o in others)
        return loss

    def _partnered(self, group: list[Count]) -> list[Count]:
        """`group` and the partners it would need at once: a count left alone among shown
        ones in a relation takes the cheapest of them (and its twins) along, a few deep
        (e.g. a curve's events take its censorings, since its size is shown)."""
        members = {id(c): c for c in group}
        for _ in range(3):
            added = False
            for cell in list(members.values()):
                for relation in self._of(cell):
                    others = [o for o, _ in relation.terms if id(o) not in members]
                    inside = [o for o, _ in relation.terms if id(o) in members]
                    if len(inside) != 1 or not others or any(o.suppressed for o in others):
                        continue
                    partner = min(others, key=lambda o: (o.cost, o.value))
                    for twin in self.twins(partner):
                        members[id(twin)] = twin
                    added = True
            if not added:
                break
        return sorted(members.values(), key=id)

    def twins(self, cell: Count) -> list[Count]:
        """`cell` and every shown count equal to it by a published relation of two terms."""
        group, todo = {id(cell): cell}, [cell]
        while todo:
            current = todo.pop()
            for relation in self._of(current):
                if len(relation.terms) != 2 or relation.constant:
                    continue
                (a, ka), (b, kb) = relation.terms
                if ka != -kb:
                    continue
                other = b if a is current else a
                if not other.suppressed and id(other) not in group:
                    group[id(other)] = other
                    todo.append(other)
        return sorted(group.values(), key=id)

    def _component(self, start: Count) -> tuple[list[Count], list[Relation]]:
        """The hidden counts tied to `start` through relations (shown counts are constants)."""
        seen = {id(start): start}
        relations: dict[int, Relation] = {}
        todo = [start]
        while todo:
            cell = todo.pop()
            for relation in self._of(cell):
                relations[id(relation)] = relation
                for other, _ in relation.terms:
                    if other.suppressed and id(other) not in seen:
                        seen[id(other)] = other
                        todo.append(other)
        return list(seen.values()), list(relations.values())


def _width(cells: list[Count], relations: list[Relation], target: Count, threshold: int) -> float:
    """max - min of `target` as one LP: two copies of the unknowns, each satisfying every
    relation, and the difference of their targets maximised."""
    import numpy as np
    from scipy.optimize import linprog

    index = {id(c): i for i, c in enumerate(cells)}
    bounds = [_label_bounds(c, threshold) for c in cells]
    if not relations:
        low, high = bounds[index[id(target)]]
        return np.inf if high is None else high - low
    size = len(cells)
    a_eq = np.zeros((2 * len(relations), 2 * size))
    b_eq = np.zeros(2 * len(relations))
    for row, relation in enumerate(relations):
        b_eq[row] = relation.constant
        for cell, coefficient in relation.terms:
            if id(cell) in index:
                a_eq[row, index[id(cell)]] += coefficient
            else:
                b_eq[row] -= coefficient * cell.value
    half = len(relations)
    a_eq[half:, size:] = a_eq[:half, :size]
    b_eq[half:] = b_eq[:half]
    objective = np.zeros(2 * size)
    objective[index[id(target)]] = 1.0
    objective[size + index[id(target)]] = -1.0
    result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds * 2, method="highs")
    if result.status == 3:  # unbounded
        return np.inf
    if result.status != 0:  # infeasible cannot happen with the true values; be safe
        return 0.0
    return float(-result.fun)


def _label_bounds(cell: Count, threshold: int) -> tuple[float, float | None]:
    """What the attacker knows of a hidden count before any relation: it is >= 0, and a
    never-shown one is at most its published cap. (The labels say more, `<T` is 0..T-1 and
    `suppressed` at least T; that is the published rule, not counted as a disclosure.)"""
    if cell.internal and cell.cap is not None:
        return 0.0, float(cell.cap)
    return 0.0, None


OMIT = {"omit_if_none": True}  # field metadata: a key left out of the JSON while None


def _is_section(value: Any) -> bool:
    return (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and not isinstance(value, Count | Derived)
    )


def fields_of(section: Any) -> dict[str, Any]:
    """A typed section's fields in JSON order, leaving out the absent optional ones."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if value is None and f.metadata.get("omit_if_none"):
            continue
        out[f.name] = value
    return out


SUPPRESSED = "suppressed"
SUPPRESSED_FIELDS = "suppressed_fields"
SUPPRESSED_REASONS = "suppressed_reasons"


def export(tree: Any, threshold: int | None = None) -> Any:
    """The tree as JSON-ready data: hidden values as None, flagged on the object holding them
    (`threshold` decides the reason a hidden count gives: `small` below it). A typed
    section (sections.py) is exported as the dict of its fields."""
    if _is_section(tree):
        tree = fields_of(tree)
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        hidden: list[str] = []
        reasons: dict[str, str] = {}
        for key, value in tree.items():
            if isinstance(value, Count | Derived) and value.suppressed:
                out[key] = None
                hidden.append(key)
                if isinstance(value, Count) or isinstance(value.value, int):
                    reasons[key] = value.reason(threshold) or SMALL
            else:
                out[key] = export(value, threshold)
        if hidden:
            out[SUPPRESSED] = True
            out[SUPPRESSED_FIELDS] = hidden
            if reasons:
                out[SUPPRESSED_REASONS] = reasons
        return out
    if isinstance(tree, list | tuple):
        return [
            None if isinstance(v, Count | Derived) and v.suppressed else export(v, threshold)
            for v in tree
        ]
    if isinstance(tree, Count):
        return tree.value
    if isinstance(tree, Derived):
        return export(tree.value, threshold)
    return tree
