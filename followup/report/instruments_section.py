"""The report's instruments section: scores, item prevalence, change and item agreement.

Per instrument, score, checkpoint and informant: n, mean, SD, median and quartiles, band
counts (a professional's override_band where set), withheld scores counted apart; per
yes/no and frequency item the share reported among those answered, each missing code
counted on its own and never as "no"; the change of each score from its first checkpoint
(in protocol order) among people measured at both; per `pair` key the agreement of his
and her answers. Revisions are pooled where a score's (or item's) definition is the same;
where it changed, each definition is reported on its own (`definition_changed: true`).

Reads three narrow selects of its own (interviews, answers, scores: columns.fetch, never
ORM objects) and never joins the answers to the other sections' queries. A `core`
interview recorded through its columns has no answer rows: its `core` answers are its
columns (followup.answers.core_answers), and its scores are computed here with
followup.scoring, exactly as if it had been recorded through the instrument.

Every count goes through the Disclosure (small cells, complementary cells, the LP audit)
with the sums that tie it to the others; every mean, SD, quartile, change and test is
`Derived` from the count it rests on, so it is hidden with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from followup.answers import core_answers
from followup.instrument_store import at_revision
from followup.instruments import DEFAULT_INSTRUMENT, MISSING_CODES, Instrument, Item
from followup.models import (
    INFORMANTS,
    VIOLENCE_TYPES,
    InstrumentAnswer,
    InstrumentRevision,
    Interview,
    InterviewScore,
)
from followup.report.columns import as_codes, coded, epoch_day, fetch, flag, scanned
from followup.report.disclosure import Count, Derived, Disclosure
from followup.report.measures import proportion
from followup.report.queries import NO, NOT_ASKED, UNKNOWN, YES, Labels, _in_site
from followup.scoring import NOT_APPLICABLE
from followup.scoring import scores as score_answers
from followup.stats import agreement
from followup.stats.scores import QUARTILE_METHOD, WILCOXON, describe, paired_change
from followup.vocab import RISK_LEVELS as RISK_WORDS

I = Interview.__table__  # noqa: E741
A = InstrumentAnswer.__table__
S = InterviewScore.__table__
COLUMN_REVISION = "(columns)"  # a core interview recorded through its columns
NO_BAND = "no_band"  # a score below every band's cut-off (or a score without bands)
PREVALENCE_TYPES = ("yes_no", "frequency")
PAIRED_TYPES = ("yes_no", "frequency", "choice", "scale")

METHODS = {
    "sd": "sample standard deviation (ddof = 1)",
    "quartiles": f"numpy.percentile, method={QUARTILE_METHOD!r} (type 7)",
    "change_ci": "t interval of the mean paired difference (later minus first checkpoint)",
    "wilcoxon": "scipy.stats.wilcoxon(differences, "
    + ", ".join(f"{k}={v!r}" for k, v in WILCOXON.items())
    + ")",
    "bands": "override_band where a professional set one, else the computed band",
    "pooling": "revisions are pooled where the score's (item's) definition is the same",
    "kappa": "Cohen's kappa (followup.stats.agreement) of the answer codes, or of "
    "reported / not reported where his and her items are coded differently",
}


# --- reading -------------------------------------------------------------------------


@dataclass
class Read:
    """Interviews (in id order), their answers and scores as arrays of codes."""

    interview_id: NDArray[np.int64]
    person: NDArray[np.int64]  # participant, or partner (partner interviews), id
    participant: NDArray[np.int64]
    checkpoint: NDArray[np.int64]
    informant: NDArray[np.int64]
    instrument: list[str]  # per interview
    revision: list[str]  # per interview (COLUMN_REVISION for column interviews)
    day: NDArray[np.float64]
    answer_at: NDArray[np.int64]  # index into the interviews
    answer_item: NDArray[np.int64]  # index into `items`
    answer_value: NDArray[np.int64]  # index into `values` (-1: NULL; len(values): other)
    score_at: NDArray[np.int64]
    score_name: NDArray[np.int64]  # index into `score_names`
    score_value: NDArray[np.float64]  # NaN: withheld
    score_band: NDArray[np.int64]  # index into `band_names` (override where set; -1: none)
    items: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    score_names: list[str] = field(default_factory=list)
    band_names: list[str] = field(default_factory=list)

    def item_code(self, item: str) -> int:
        return self.items.index(item) if item in self.items else -2

    def value_codes(self, codes: Sequence[str]) -> list[int]:
        return [self.values.index(c) for c in codes if c in self.values]

    def band_code(self, band: str | None) -> int:
        return self.band_names.index(band) if band in self.band_names else -1


def interviews_query(as_of: date, site: str | None, labels: Labels, revisions: list[str],
                     instruments: list[str]) -> sa.Select:  # fmt: skip
    packed = sum(
        sa.case((I.c[t] == sa.false(), NO), (I.c[t] == sa.true(), YES), else_=NOT_ASKED) * (4**k)
        for k, t in enumerate(VIOLENCE_TYPES)
    )
    return (
        sa.select(
            I.c.id,
            I.c.participant_id,
            sa.func.coalesce(I.c.partner_id, -1),
            coded(I.c.checkpoint, labels.checkpoints),
            coded(I.c.informant, list(INFORMANTS)),
            coded(I.c.instrument, instruments),
            coded(I.c.instrument_revision, revisions),
            epoch_day(I.c.conducted_on),
            packed,
            I.c.felt_safety,
            coded(I.c.risk_level, RISK_WORDS),
        )
        .where(
            scanned(I.c.conducted_on) <= as_of,
            I.c.voided_at.is_(None),
            *_in_site(I.c.participant_id, site),
        )
        .order_by(I.c.id)
    )


def answers_query(items: Sequence[str], values: Sequence[str]) -> sa.Select:
    """The answers the section reads: coded items only (text is never read)."""
    return sa.select(A.c.interview_id, coded(A.c.item, items), coded(A.c.value, values)).where(
        A.c.item.in_(items)
    )


def scores_query(names: Sequence[str], bands: Sequence[str]) -> sa.Select:
    band = sa.func.coalesce(S.c.override_band, S.c.band)
    return sa.select(
        S.c.interview_id,
        coded(S.c.score, names),
        sa.case((S.c.withheld.is_not(None), sa.null()), else_=S.c.value),
        coded(band, bands),
        flag(S.c.override_band.is_not(None)),
    )


@dataclass
class Revisions:
    """Every instrument revision answers may name, and the core revision column-recorded
    interviews are read in (the one in force; the file's before any is applied)."""

    by_revision: dict[str, Instrument]
    core: Instrument

    @classmethod
    def read(cls, session: Session, files: dict[str, Instrument]) -> Revisions:
        rows = session.execute(
            sa.select(InstrumentRevision.revision, InstrumentRevision.instrument_id).order_by(
                InstrumentRevision.applied_at, InstrumentRevision.id
            )
        ).all()
        found = {revision: at_revision(session, revision) for revision, _ in rows}
        for file in files.values():  # named by an answer before it was applied: the file
            found.setdefault(file.revision, file)
        core_revisions = [r for r, i in rows if i == DEFAULT_INSTRUMENT]
        core = found[core_revisions[-1]] if core_revisions else files[DEFAULT_INSTRUMENT]
        return cls(found, core)

    def of(self, revision: str) -> Instrument | None:
        return self.core if revision == COLUMN_REVISION else self.by_revision.get(revision)

    def all(self) -> list[Instrument]:
        return [self.core, *self.by_revision.values()]


def read(
    conn: sa.Connection, revisions: Revisions, as_of: date, site: str | None, labels: Labels
) -> Read:
    names = sorted(revisions.by_revision)
    instrument_ids = sorted({i.id for i in revisions.all()})
    rows = fetch(conn, interviews_query(as_of, site, labels, names, instrument_ids))
    ids = rows[:, 0].astype(np.int64)
    participant = rows[:, 1].astype(np.int64)
    partner = rows[:, 2].astype(np.int64)
    informant = as_codes(rows[:, 4])
    instrument_code = as_codes(rows[:, 5])
    revision_code = as_codes(rows[:, 6])
    on_columns = revision_code < 0
    instrument = [
        instrument_ids[c] if 0 <= c < len(instrument_ids) else UNKNOWN for c in instrument_code
    ]
    revision = [
        COLUMN_REVISION if c < 0 else (names[c] if c < len(names) else UNKNOWN)
        for c in revision_code
    ]
    person = np.where(informant == INFORMANTS.index("partner"), partner, participant)
    # Column interviews of an instrument other than core cannot be read: left out.
    for k in np.flatnonzero(on_columns):
        if instrument[k] != DEFAULT_INSTRUMENT:
            revision[k] = UNKNOWN

    items = sorted({i.id for inst in revisions.all() for i in inst.items if i.type in PAIRED_TYPES})
    values = sorted({c for inst in revisions.all() for i in inst.items for c in _codes(i)})
    values += list(MISSING_CODES)
    answers = fetch(conn, answers_query(items, values)) if items else np.empty((0, 3))
    at, known = _positions(ids, answers[:, 0].astype(np.int64))
    answer_at = at[known]
    answer_item = as_codes(answers[known, 1])
    answer_value = as_codes(answers[known, 2])

    score_names = sorted({s.id for inst in revisions.all() for s in inst.scores})
    band_names = sorted({b.label for inst in revisions.all() for s in inst.scores for b in s.bands})
    scored = fetch(conn, scores_query(score_names, band_names)) if score_names else np.empty((0, 5))
    at, known = _positions(ids, scored[:, 0].astype(np.int64))
    score_at = at[known]
    score_name = as_codes(scored[known, 1])
    score_value = scored[known, 2]
    score_band = as_codes(scored[known, 3])

    found = Read(
        ids, person, participant, as_codes(rows[:, 3]), informant, instrument, revision,
        rows[:, 7], answer_at, answer_item, answer_value, score_at, score_name, score_value,
        score_band, items, values, score_names, band_names,
    )  # fmt: skip
    _column_interviews(found, np.flatnonzero(on_columns), rows, revisions.core)
    return found


def _codes(item: Item) -> list[str]:
    if item.type == "scale" and item.min is not None and item.max is not None:
        return [str(v) for v in range(item.min, item.max + 1)]
    return list(item.codes)


def _positions(ids: NDArray[np.int64], wanted: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
    """Where each of `wanted` is among the (sorted) interview ids, and whether it is."""
    if not ids.size:
        return np.zeros(wanted.size, np.int64), np.zeros(wanted.size, bool)
    at = np.minimum(np.searchsorted(ids, wanted), ids.size - 1)
    return at, ids[at] == wanted


def _column_interviews(found: Read, where: NDArray, rows: NDArray, core: Instrument) -> None:
    """Core interviews recorded through their columns: their columns as core answers
    (followup.answers.core_answers) and their scores as followup.scoring computes them,
    once per distinct set of answers (a few hundred at most)."""
    where = np.array([k for k in where if found.revision[k] == COLUMN_REVISION], dtype=np.int64)
    if not where.size:
        return
    packed = rows[where, 8].astype(np.int64)
    safety = rows[where, 9]
    risk = as_codes(rows[where, 10])
    key = (packed * 8 + np.where(np.isnan(safety), 0, safety).astype(np.int64)) * 8 + (risk + 1)
    patterns, inverse = np.unique(key, return_inverse=True)
    first = np.zeros(patterns.size, np.int64)
    first[inverse[::-1]] = np.arange(where.size)[::-1]
    items = [i.id for i in core.items if i.type in PAIRED_TYPES]
    new_at, new_item, new_value = [], [], []
    score_at, score_name, score_value, score_band = [], [], [], []
    other = len(found.values)
    for p in range(patterns.size):
        k = first[p]
        answers = core_answers(_ColumnRow(int(packed[k]), safety[k], int(risk[k])))
        mine = where[inverse == p]
        for item in items:
            if item in answers:
                value = answers[item]
                code = found.values.index(value) if value in found.values else other
                new_at.append(mine)
                new_item.append(np.full(mine.size, found.item_code(item)))
                new_value.append(np.full(mine.size, code))
        for result in score_answers(core, answers):
            score_at.append(mine)
            score_name.append(np.full(mine.size, found.score_names.index(result.score)))
            score_value.append(np.full(mine.size, np.nan if result.value is None else result.value))
            score_band.append(np.full(mine.size, found.band_code(result.band)))

    def joined(old: NDArray, new: list[NDArray], dtype=np.int64) -> NDArray:
        return np.concatenate([old, *new]).astype(dtype)

    found.answer_at = joined(found.answer_at, new_at)
    found.answer_item = joined(found.answer_item, new_item)
    found.answer_value = joined(found.answer_value, new_value)
    found.score_at = joined(found.score_at, score_at)
    found.score_name = joined(found.score_name, score_name)
    found.score_value = joined(found.score_value, score_value, np.float64)
    found.score_band = joined(found.score_band, score_band)


class _ColumnRow:
    """An interview's columns, decoded from the packed select (for core_answers)."""

    def __init__(self, packed: int, safety: float, risk: int) -> None:
        for k, kind in enumerate(VIOLENCE_TYPES):
            said = (packed >> (2 * k)) & 3
            setattr(self, kind, None if said == NOT_ASKED else said == YES)
        self.felt_safety = None if safety != safety else int(safety)
        self.risk_level = RISK_WORDS[risk] if 0 <= risk < len(RISK_WORDS) else None


# --- measuring -----------------------------------------------------------------------


@dataclass
class _Pool:
    """Revisions of one instrument whose definition of a score (or item) is the same."""

    definition: str
    revisions: list[str] = field(default_factory=list)


def _pools(revisions: list[str], definition_of) -> dict[str, _Pool]:
    pools: dict[str, _Pool] = {}
    for revision in revisions:
        definition = definition_of(revision)
        if definition is None:
            continue
        pools.setdefault(definition, _Pool(definition)).revisions.append(revision)
    return pools


def _item_definition(item: Item | None) -> str | None:
    if item is None or item.type not in PREVALENCE_TYPES:
        return None
    reported = [c for c in item.codes if _reported_code(item, c)]
    text = json.dumps([item.type, list(item.codes), reported])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _reported_code(item: Item, code: str) -> bool:
    """A yes, or a frequency band above 0: the item reports what it asks about."""
    if item.type == "yes_no":
        return code == "yes"
    return any(b.code == code and b.midpoint > 0 for b in item.bands)


def instruments(
    session: Session,
    files: dict[str, Instrument],
    as_of: date,
    site: str | None,
    labels: Labels,
    confidence: float,
    d: Disclosure,
    non_violence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The section's tree (counts and derived values, see disclosure.py)."""
    revisions = Revisions.read(session, files)
    data = read(session.connection(), revisions, as_of, site, labels)
    return measure(data, revisions, labels, confidence, d, non_violence)


def measure(
    data: Read,
    revisions: Revisions,
    labels: Labels,
    confidence: float,
    d: Disclosure,
    non_violence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    names = [*labels.checkpoints, UNKNOWN]
    scheduled = data.checkpoint >= 0
    revision = np.array(data.revision, dtype=object)
    instrument = np.array(data.instrument, dtype=object)
    tree: dict[str, Any] = {}
    for inst_id in sorted(set(instrument[scheduled]) - {UNKNOWN}):
        mine = scheduled & (instrument == inst_id) & (revision != UNKNOWN)
        present = sorted(set(revision[mine]), key=lambda r: (r != COLUMN_REVISION, r))
        if not present:
            continue
        asked = _Asked(data, mine, revision, d)
        section: dict[str, Any] = {
            "revisions": [_shown_revision(r, revisions) for r in present],
        }
        section["scores"] = _scores(data, mine, revision, present, revisions, names, confidence, d,
                                    asked)  # fmt: skip
        section["items"] = _items(data, mine, revision, present, revisions, names, confidence, d,
                                  asked)  # fmt: skip
        tree[inst_id] = section
    _agreement(data, scheduled & (revision != UNKNOWN), revision, revisions, names, d, tree)
    if non_violence:
        _same_as_non_violence(tree, non_violence, revisions, data, scheduled, d, names)
    return tree


def _shown_revision(revision: str, revisions: Revisions) -> str:
    return revisions.core.revision if revision == COLUMN_REVISION else revision


class _Asked:
    """How many interviews of some revisions of an instrument were held at a checkpoint
    and informant. Never shown, but every interview has each score (withheld or not) and
    an answer to each item (a missing code or not): the counts that add up to it are tied
    to it, so a count hidden in one table is not given away by another's."""

    def __init__(self, data: Read, mine, revision, d: Disclosure) -> None:
        self.data, self.mine, self.revision, self.d = data, mine, revision, d
        self.cells: dict[tuple, Count] = {}

    def tie(self, revisions: list[str], checkpoint: int, informant: int, parts: list[Count]):
        key = (tuple(revisions), checkpoint, informant)
        if key not in self.cells:
            data = self.data
            here = (
                self.mine
                & np.isin(self.revision, revisions)
                & (data.checkpoint == checkpoint)
                & (data.informant == informant)
            )
            self.cells[key] = self.d.count(int(here.sum()), shown=False)
        total = self.cells[key]
        if total.value == sum(p.value for p in parts):  # a row missing breaks the tie
            self.d.total(total, parts)


# --- scores --------------------------------------------------------------------------


def _scores(data, mine, revision, present, revisions, names, confidence, d, interviews):
    score_ids: list[str] = []
    for r in present:
        for s in revisions.of(r).scores:  # type: ignore[union-attr]
            if s.id not in score_ids:
                score_ids.append(s.id)
    out: dict[str, Any] = {}
    for score_id in score_ids:

        def definition(r: str, score_id=score_id) -> str | None:
            inst = revisions.of(r)
            return inst.score_definition(score_id) if inst and inst.score(score_id) else None

        pools = _pools(present, definition)
        rows = data.score_name == data.score_names.index(score_id)
        pooled = {
            p.definition: _score_pool(
                data,
                mine & np.isin(revision, p.revisions),
                rows,
                score_id,
                p,
                revisions,
                names,
                confidence,
                d,
                interviews,
            )
            for p in pools.values()
        }
        out[score_id] = _pooled(pools, pooled, revisions)
    return out


def _pooled(pools: dict[str, _Pool], pooled: dict[str, dict], revisions: Revisions) -> dict:
    """One definition: its figures; several: each apart, flagged `definition_changed`."""
    if len(pools) == 1:
        return {"definition_changed": False, **next(iter(pooled.values()))}
    shown = [_shown_revision(r, revisions) for p in pools.values() for r in p.revisions]
    return {"definition_changed": True, "revisions": shown, "by_definition": pooled}


def _score_pool(data, pool, rows, score_id, p: _Pool, revisions, names, confidence, d,
                interviews):  # fmt: skip
    definition = revisions.of(p.revisions[-1]).score(score_id)  # type: ignore[union-attr]
    bands = [b.label for b in definition.bands] if definition else []
    in_pool = pool[data.score_at] & rows
    at = data.score_at[in_pool]
    values = data.score_value[in_pool]
    band = data.score_band[in_pool]
    by_checkpoint: dict[str, dict[str, Any]] = {}
    measured: dict[str, dict[str, tuple]] = {}  # informant -> checkpoint -> (at, values, band)
    for c in range(len(names)):
        for i, who in enumerate(INFORMANTS):
            here = (data.checkpoint[at] == c) & (data.informant[at] == i)
            if not here.any():
                continue
            name = names[c]
            cell = _score_cell(values[here], band[here], bands, data, d)
            interviews.tie(p.revisions, c, i, [cell["n"], cell["withheld"]])
            by_checkpoint.setdefault(name, {})[who] = cell
            ok = ~np.isnan(values[here])
            measured.setdefault(who, {})[name] = (at[here][ok], values[here][ok], band[here][ok])
    out: dict[str, Any] = {
        "revisions": [_shown_revision(r, revisions) for r in p.revisions],
        "definition": p.definition,
    }
    out["by_checkpoint"] = by_checkpoint
    out["change"] = _change(data, measured, names, bands, confidence, d)
    return out


def _score_cell(values, band, bands: list[str], data: Read, d: Disclosure) -> dict:
    scored = ~np.isnan(values)
    n = d.count(int(scored.sum()))
    withheld = d.count(int((~scored).sum()))
    s = describe(values[scored])
    counts: dict[str, Count] = {}
    if bands:  # a score without bands has no band counts
        counts = {b: d.count(int((band[scored] == data.band_code(b)).sum())) for b in bands}
        counts[NO_BAND] = d.count(int(scored.sum()) - sum(c.value for c in counts.values()))
        d.total(n, counts.values())
    return {
        "n": n,
        "withheld": withheld,
        "mean": d.derived(s.mean, n),
        "sd": d.derived(s.sd, n),
        "median": d.derived(s.median, n),
        "q1": d.derived(s.q1, n),
        "q3": d.derived(s.q3, n),
        "bands": counts,
    }


def _change(data, measured, names, bands, confidence, d) -> dict[str, dict[str, Any]]:
    """From the first checkpoint (protocol order) each informant's score was measured at,
    to each later one: the people measured at both (their latest interview at each)."""
    order = np.full(len(data.band_names) + 2, -1, dtype=np.int64)  # -1 (none) reads the last
    for k, b in enumerate(bands):
        order[data.band_code(b)] = k
    out: dict[str, dict[str, Any]] = {}
    for who, by_name in measured.items():
        ordered = [n for n in names if n in by_name and by_name[n][0].size]
        if len(ordered) < 2:
            continue
        first = _latest_per_person(data, *by_name[ordered[0]])
        for later_name in ordered[1:]:
            later = _latest_per_person(data, *by_name[later_name])
            common, i, j = np.intersect1d(first[0], later[0], return_indices=True)
            before, after = first[1][i], later[1][j]
            b_rank, a_rank = order[first[2][i]], order[later[2][j]]
            n = d.count(int(common.size))
            c = paired_change(before, after, confidence)
            cell: dict[str, Any] = {
                "from": ordered[0],
                "n": n,
                "mean_change": d.derived(c.mean, n),
                "ci": d.derived(None if c.ci_low is None else [c.ci_low, c.ci_high], n),
                "wilcoxon_statistic": d.derived(c.wilcoxon_statistic, n),
                "wilcoxon_p": d.derived(c.wilcoxon_p, n),
            }
            if bands:
                moved = {
                    "moved_down": d.count(int((a_rank < b_rank).sum())),
                    "same_band": d.count(int((a_rank == b_rank).sum())),
                    "moved_up": d.count(int((a_rank > b_rank).sum())),
                }
                d.total(n, moved.values())
                down = moved["moved_down"]
                share = down.value / n.value if n.value else None
                cell.update(moved, share_moved_down=d.derived(share, down, n))
            out.setdefault(later_name, {})[who] = cell
    return {name: out[name] for name in names if name in out}  # protocol order


def _latest_per_person(data: Read, at, values, band):
    """Per person, the latest interview's (value, band): by day, then by id."""
    person = data.person[at]
    order = np.lexsort((data.interview_id[at], data.day[at], person))
    person, values, band = person[order], values[order], band[order]
    last = np.ones(person.size, bool)
    last[:-1] = person[1:] != person[:-1]
    return person[last], values[last], band[last]


# --- items ---------------------------------------------------------------------------


def _items(data, mine, revision, present, revisions, names, confidence, d, interviews):
    item_ids: list[str] = []
    for r in present:
        for item in revisions.of(r).items:  # type: ignore[union-attr]
            if item.type in PREVALENCE_TYPES and item.id not in item_ids:
                item_ids.append(item.id)
    out: dict[str, Any] = {}
    for item_id in item_ids:

        def definition(r: str, item_id=item_id) -> str | None:
            inst = revisions.of(r)
            return _item_definition(inst.item(item_id)) if inst else None

        pools = _pools(present, definition)
        rows = data.answer_item == data.item_code(item_id)
        pooled = {}
        for p in pools.values():
            item = revisions.of(p.revisions[-1]).item(item_id)  # type: ignore[union-attr]
            in_pool = rows & (mine & np.isin(revision, p.revisions))[data.answer_at]
            pooled[p.definition] = {
                "revisions": [_shown_revision(r, revisions) for r in p.revisions],
                "type": item.type,
                "by_checkpoint": _prevalence(
                    data,
                    in_pool,
                    item,
                    names,
                    confidence,
                    d,
                    lambda c, i, parts, p=p: interviews.tie(p.revisions, c, i, parts),
                ),
            }
        out[item_id] = _pooled(pools, pooled, revisions)
    return out


def _prevalence(data: Read, rows, item: Item, names, confidence, d, tie):
    """Counts per checkpoint, informant and answer code in one bincount."""
    at = data.answer_at[rows]
    width = len(data.values) + 2  # the codes, "other", and NULL (-1, read last)
    slots = len(names) * len(INFORMANTS)
    slot = data.checkpoint[at] * len(INFORMANTS) + data.informant[at]
    value = np.where(data.answer_value[rows] < 0, width - 1, data.answer_value[rows])
    table = np.bincount(slot * width + value, minlength=slots * width).reshape(slots, width)
    reported_codes = data.value_codes([c for c in item.codes if _reported_code(item, c)])
    answered_codes = data.value_codes(list(item.codes))
    # not_applicable is given only where a show_if hides the item: elsewhere it is zero by
    # construction, and not published
    codes = [m for m in MISSING_CODES if m != NOT_APPLICABLE or item.show_if]
    out: dict[str, dict[str, Any]] = {}
    for s in np.flatnonzero(table.sum(axis=1)):
        c, i = divmod(int(s), len(INFORMANTS))
        row = table[s]
        reported = d.count(int(row[reported_codes].sum()))
        answered = int(row[answered_codes].sum())
        not_reported = d.count(answered - reported.value)
        n = d.count(answered)
        d.total(n, [reported, not_reported])
        if not answered:  # nobody answered it (e.g. never asked): its zeros describe nobody
            for cell in (n, reported, not_reported):
                cell.primary = False
        missing = {
            code: d.count(int(row[data.values.index(code)]) if code in data.values else 0)
            for code in codes
        }
        tie(c, i, [n, *missing.values()])
        p = proportion(d, reported, n, confidence)
        out.setdefault(names[c], {})[INFORMANTS[i]] = {
            "n": n,
            "reported": reported,
            "not_reported": not_reported,
            "share": p["rate"],
            "ci": p["ci"],
            "missing": missing,
        }
    return out


# --- agreement of paired items ---------------------------------------------------------


def _agreement(data: Read, usable, revision, revisions: Revisions, names, d, tree) -> None:
    """Per pair key and checkpoint: his answer and hers (the latest answered interview of
    each side per man and checkpoint). Compared by code where every item with the key is
    coded alike, else by reported / not reported."""
    pair_items: dict[str, dict[tuple[str, str], Item]] = {}  # pair -> (revision, item id)
    for r in set(revision[usable]):
        inst = revisions.of(r)
        for item in inst.items if inst else []:
            if item.pair and item.type in PAIRED_TYPES:
                pair_items.setdefault(item.pair, {})[(r, item.id)] = item
    answer_revision = revision[data.answer_at]
    answer_usable = usable[data.answer_at]
    participant, partner = INFORMANTS.index("participant"), INFORMANTS.index("partner")
    instrument = np.array(data.instrument, dtype=object)
    order_names = len(names) + 1
    for pair, items in sorted(pair_items.items()):
        codings = {tuple(_codes(item)) for item in items.values()}
        by_code = len(codings) == 1 and all(i.type != "frequency" for i in items.values())
        rows = np.zeros(data.answer_item.size, bool)
        answer = np.full(data.answer_item.size, -1, dtype=np.int64)
        for (r, item_id), item in items.items():
            here = answer_usable & (data.answer_item == data.item_code(item_id))
            here &= answer_revision == r
            given = here & np.isin(data.answer_value, data.value_codes(_codes(item)))
            rows |= given
            if by_code:
                answer[given] = data.answer_value[given]
            else:
                reported = data.value_codes([c for c in item.codes if _reported_code(item, c)])
                answer[given] = np.isin(data.answer_value[given], reported).astype(np.int64)
        at = data.answer_at[rows]
        answer = answer[rows]
        sides = []
        for who in (participant, partner):
            mine = data.informant[at] == who
            key = data.participant[at][mine] * order_names + data.checkpoint[at][mine]
            order = np.lexsort((data.interview_id[at][mine], data.day[at][mine], key))
            k, a = key[order], answer[mine][order]
            last = np.ones(k.size, bool)
            last[:-1] = k[1:] != k[:-1]
            sides.append((k[last], a[last]))
        (his_keys, his), (her_keys, hers) = sides
        common, i, j = np.intersect1d(his_keys, her_keys, return_indices=True)
        if not common.size:
            continue
        checkpoint = common % order_names
        for c in np.unique(checkpoint):
            here = checkpoint == c
            a = agreement(his[i][here], hers[j][here])
            agree = d.count(a.n_agree)
            disagree = d.count(a.n - a.n_agree)
            n = d.count(a.n)
            d.total(n, [agree, disagree])
            owner = _owner(data, at, instrument, participant, int(c))
            cell = {
                "n": n,
                "agree": agree,
                "disagree": disagree,
                "compared": "codes" if by_code else "reported",
                "percent_agreement": d.derived(a.percent_agreement, agree, n),
                "kappa": d.derived(a.kappa, agree, disagree),
            }
            section = tree.setdefault(owner, {"revisions": [], "scores": {}, "items": {}})
            section.setdefault("agreement", {}).setdefault(pair, {})[names[c]] = cell


def _owner(data: Read, at, instrument, participant: int, checkpoint: int) -> str:
    """The instrument his answers came from at this checkpoint (the section it is under)."""
    his = at[(data.informant[at] == participant) & (data.checkpoint[at] == checkpoint)]
    return str(instrument[his[0]]) if his.size else DEFAULT_INSTRUMENT


# --- the same counts in the non-violence section -----------------------------------------


def _same_as_non_violence(tree, non_violence, revisions, data, scheduled, d, names) -> None:
    """Non-violence counts each violence type per checkpoint and informant over every
    interview; where every interview there was of instruments with exactly one item
    counting as that type, its counts are the sum of those items' counts (declared, so
    a count hidden in one table is not given away by the other)."""
    for name, by_informant in non_violence.items():
        for who, entry in by_informant.items():
            c = names.index(name) if name in names else -1
            slot = scheduled & (data.checkpoint == c) & (data.informant == INFORMANTS.index(who))
            if not slot.any() or UNKNOWN in set(np.array(data.revision, dtype=object)[slot]):
                continue  # an interview the section cannot read: the counts differ
            for kind, counts in entry.by_type.items():
                parts = _type_cells(tree, name, who, kind, revisions)
                if parts is None:
                    continue
                if not counts.n.value:  # nobody answered: both tables show zeros of nobody
                    continue
                for mine, theirs in (("n", "n"), ("reported", "reported"),
                                     ("not_reported", "none_reported")):  # fmt: skip
                    cells = [p[mine] for p in parts]
                    total = getattr(counts, theirs)
                    if total.value == sum(x.value for x in cells):
                        d.total(total, cells)


def _type_cells(tree, name, who, kind, revisions) -> list[dict] | None:
    """Each instrument's one item counting as `kind` at the checkpoint (None if any
    instrument there has none, or several, or a changed definition)."""
    parts = []
    for section in tree.values():
        if not any(
            who in pool.get("by_checkpoint", {}).get(name, {})
            for entry in section["items"].values()
            for pool in _pool_list(entry)
        ):
            continue
        counting = []
        for item_id, entry in section["items"].items():
            if entry.get("definition_changed"):
                return None
            for revision in entry["revisions"]:
                inst = revisions.by_revision.get(revision) or revisions.core
                item = inst.item(item_id)
                if item is not None and item.counts_as == kind and item_id not in counting:
                    counting.append(item_id)
        if len(counting) != 1:
            return None
        cell = section["items"][counting[0]]["by_checkpoint"].get(name, {}).get(who)
        if cell is None:
            return None
        parts.append(cell)
    return parts or None


def _pool_list(entry: dict[str, Any]) -> list[dict[str, Any]]:
    if entry.get("definition_changed"):
        return list(entry["by_definition"].values())
    return [entry]


def methods() -> dict[str, str]:
    return dict(METHODS)


__all__ = ["METHODS", "Derived", "instruments", "measure", "methods", "read"]
