"""Small-cell suppression: what an evaluator may see of a report.

A report is built as a tree of dicts and lists whose leaves are `Count`s (a number of
people or records), `Derived` values (a rate, a CI, a median: computed from counts) and
plain values. `Disclosure` knows every count and the sums that tie counts together
(a total and its parts). `suppress(threshold)` then hides:

1. every count below the threshold, zero included ("none of the 12 partners reported
   violence" tells as much about each of them as "three did");
2. complementary cells, so no hidden count can be worked out from a sum it belongs to:
   within each sum, one hidden member alone is recoverable (total minus the others), so a
   second is hidden; and while the total is shown, the hidden parts must add up to at
   least the threshold (else their sum, e.g. 0, would give them away). The cell hidden is
   always the smallest one still shown, so as little as possible is lost. Sums are
   revisited until nothing changes, so a cell hidden in one table is protected in every
   other table it belongs to (a site's count in the by-site table and in the total);
3. every derived value that depends on a hidden count.

What is not done: an audit of every linear combination of sums (as tau-argus does with
linear programming). Each sum is protected on its own; the report's tables are small and
their sums are few, which is where this rule is known to be adequate.

`export(tree)` turns the tree into JSON: a hidden value becomes null, and the object that
holds it gets `"suppressed": true` and `"suppressed_fields": [names]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Count:
    value: int
    suppressed: bool = False

    def __post_init__(self) -> None:
        self.value = int(self.value)


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


@dataclass
class Disclosure:
    threshold: int | None = None  # None: nothing suppressed (administrators' --no-suppress)
    counts: list[Count] = field(default_factory=list)
    sums: list[tuple[Count, tuple[Count, ...]]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.threshold is not None

    def count(self, value: int, *, shown: bool = True) -> Count:
        """A count in the report; `shown=False` for one that is never shown but belongs to a
        sum (so the sum's other members are protected as if it were hidden, which it is)."""
        cell = Count(value, suppressed=not shown)
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
            self.sums.append((total, parts))

    def derived(self, value: Any, *sources: Count, hidden: bool = False) -> Derived:
        return Derived(value, tuple(sources), hidden)

    def small(self, value: int) -> bool:
        """Whether a count of `value` would be hidden (for rules outside the tree, e.g. cuts)."""
        return self.threshold is not None and value < self.threshold

    def suppress(self) -> None:
        if self.threshold is None:
            return
        for cell in self.counts:
            if cell.value < self.threshold:
                cell.suppressed = True
        changed = True
        while changed:
            changed = False
            for total, parts in self.sums:
                victim = self._complement(total, parts)
                if victim is not None:
                    victim.suppressed = True
                    changed = True

    def _complement(self, total: Count, parts: Sequence[Count]) -> Count | None:
        """The next cell to hide so this sum gives nothing away, or None when it is safe."""
        hidden_parts = [p for p in parts if p.suppressed]
        hidden = len(hidden_parts) + total.suppressed
        if hidden == 0:
            return None
        shown_parts = [p for p in parts if not p.suppressed]
        if hidden == 1:
            if shown_parts:
                return min(shown_parts, key=lambda p: p.value)
            return total if not total.suppressed else None
        if not total.suppressed and sum(p.value for p in hidden_parts) < self.threshold:
            if shown_parts:
                return min(shown_parts, key=lambda p: p.value)
            return total
        return None


SUPPRESSED = "suppressed"
SUPPRESSED_FIELDS = "suppressed_fields"


def export(tree: Any) -> Any:
    """The tree as JSON-ready data: hidden values as None, flagged on the object holding them."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        hidden: list[str] = []
        for key, value in tree.items():
            if isinstance(value, Count | Derived) and value.suppressed:
                out[key] = None
                hidden.append(key)
            else:
                out[key] = export(value)
        if hidden:
            out[SUPPRESSED] = True
            out[SUPPRESSED_FIELDS] = hidden
        return out
    if isinstance(tree, list | tuple):
        return [
            None if isinstance(v, Count | Derived) and v.suppressed else export(v) for v in tree
        ]
    if isinstance(tree, Count):
        return tree.value
    if isinstance(tree, Derived):
        return export(tree.value)
    return tree
