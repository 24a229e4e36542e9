"""The report's instruments section at scale: bench/report.py --instruments (issue 14).

    .venv/bin/python bench/report.py --instruments [--participants 100000] [--repeat K]

The report bench's cohort (bench/report.py builds and caches it) is copied, and every
interview becomes an interview of a ten-item instrument (bench10: six violence types by
frequency, three yes/no items, felt safety 1-5; two scores, one with bands) with its ten
InstrumentAnswer rows and two InterviewScore rows, written in bulk (missing codes
included, 1% of scores overridden). Timed, each in its own process, the best of --repeat:

  section  followup.report.instruments_section.instruments(...): its three selects
           through SQLAlchemy Core into numpy and every figure (scores, bands, change with
           t CI and Wilcoxon, prevalence, paired agreement), under a Disclosure
           (the suppression itself is timed with the whole report, not here);
  bound    the same three selects (compiled beforehand) run by raw sqlite3 into numpy,
           and the same figures computed with numpy and scipy directly.

Only the work is timed (wall: perf_counter, CPU: process_time), not the interpreter's
start-up and imports, which differ between the two by the size of what they import.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
TODAY = date(2026, 11, 24)
NOW = "2026-11-24 00:00:00.000000"
TYPES = ("physical", "sexual", "psychological", "economic", "coercive", "stalking")
BANDS = (("none", 0.0), ("once", 1.0), ("2_5", 3.5), ("over_5", 8.0))

INSTRUMENT = (
    'id = "bench10"\nname = "Bench: ten items"\n'
    + "".join(
        f'\n[[items]]\nid = "{t}_times"\ntype = "frequency"\ncounts_as = "{t}"\npair = "{t}"\n'
        f'label = "{t} how often"\n'
        + "".join(
            f'[[items.bands]]\ncode = "{code}"\nlabel = "{code}"\nmidpoint = {mid}\n'
            for code, mid in BANDS
        )
        for t in TYPES
    )
    + "".join(
        f'\n[[items]]\nid = "{name}"\ntype = "yes_no"\npair = "{name}"\nlabel = "{name}?"\n'
        for name in ("injured", "afraid", "children_present")
    )
    + '\n[[items]]\nid = "felt_safety"\ntype = "scale"\nmin = 1\nmax = 5\nlabel = "safe?"\n'
    + '\n[[scores]]\nid = "violence_types"\nmethod = "count_yes"\nmax_missing = 2\n'
    + "items = [" + ", ".join(f'"{t}_times"' for t in TYPES) + "]\n"
    + '[[scores.bands]]\nat_least = 0\nlabel = "none"\n'
    + '[[scores.bands]]\nat_least = 1\nlabel = "some"\n'
    + '[[scores.bands]]\nat_least = 3\nlabel = "many"\n'
    + '\n[[scores]]\nid = "severity"\nmethod = "sum"\nmax_missing = 2\n'
    + "items = [" + ", ".join(f'"{t}_times"' for t in TYPES) + "]\n"
)  # fmt: skip


def paths(n: int) -> tuple[Path, Path, Path]:
    return (
        OUT / f"report-instruments-{n}.db",
        OUT / f"report-instruments-{n}.toml",
        OUT / (f"report-instruments-{n}-sql.json"),
    )


def build(base: Path, n: int, seed: int = 14) -> dict[str, int]:
    """A copy of the report bench's database with ten answers per interview."""
    import numpy as np

    sys.path.insert(0, str(REPO))
    from followup.instruments import load_instrument

    db, config, _ = paths(n)
    schedules = OUT / "instruments-schedules"
    if schedules.exists():
        shutil.rmtree(schedules)
    shutil.copytree(REPO / "schedules", schedules)
    (schedules / "instruments" / "bench10.toml").write_text(INSTRUMENT)
    instrument = load_instrument(schedules / "instruments" / "bench10.toml")
    shutil.copyfile(base, db)
    text = (OUT / f"report-{n}.toml").read_text()
    text = text.replace(str(base), str(db)).replace(str(REPO / "schedules"), str(schedules))
    config.write_text(text)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO instrument_revision (instrument_id, revision, definition, applied_at) "
        "VALUES (?, ?, ?, ?)",
        ("bench10", instrument.revision, instrument.to_json(), NOW),
    )
    conn.execute(
        "UPDATE interview SET instrument = 'bench10', instrument_revision = ?",
        (instrument.revision,),
    )
    ids = np.array([r[0] for r in conn.execute("SELECT id FROM interview ORDER BY id")])
    rng = np.random.default_rng(seed)
    size = ids.size
    codes = np.array([c for c, _ in BANDS] + ["dont_know", "refused"], dtype=object)
    midpoints = np.array([m for _, m in BANDS] + [np.nan, np.nan])
    freq = rng.choice(len(codes), size=(size, len(TYPES)), p=[0.82, 0.07, 0.05, 0.02, 0.03, 0.01])
    yes_no = rng.choice(np.array(["yes", "no", "dont_know"], dtype=object), size=(size, 3),
                        p=[0.2, 0.77, 0.03])  # fmt: skip
    safety = rng.integers(1, 6, size).astype(str)
    answers = conn.executemany
    rows = []
    for k, item in enumerate(f"{t}_times" for t in TYPES):
        rows.append(zip(ids.tolist(), [item] * size, codes[freq[:, k]].tolist(), strict=True))
    for k, item in enumerate(("injured", "afraid", "children_present")):
        rows.append(zip(ids.tolist(), [item] * size, yes_no[:, k].tolist(), strict=True))
    rows.append(zip(ids.tolist(), ["felt_safety"] * size, safety.tolist(), strict=True))
    for part in rows:
        answers("INSERT INTO instrument_answer (interview_id, item, value) VALUES (?,?,?)", part)
    mids = midpoints[freq]
    missing = np.isnan(mids).sum(axis=1)
    withheld = missing > 2
    count = np.where(withheld, np.nan, np.nansum(mids > 0, axis=1))
    severity = np.where(withheld, np.nan, np.nansum(mids, axis=1))
    band = np.where(count >= 3, "many", np.where(count >= 1, "some", "none")).astype(object)
    band[withheld] = None
    override = (rng.random(size) < 0.01) & ~withheld
    why = "too many items missing"
    for name, values, bands in (("violence_types", count, band), ("severity", severity, None)):
        conn.executemany(
            "INSERT INTO interview_score (interview_id, score, value, band, withheld, "
            "override_band) VALUES (?,?,?,?,?,?)",
            zip(
                ids.tolist(), [name] * size,
                [None if v != v else float(v) for v in values],
                [None if bands is None else b for b in (bands if bands is not None else [None] * size)],
                [why if w else None for w in withheld],
                ["many" if (o and name == "violence_types") else None for o in override],
                strict=True,
            ),
        )  # fmt: skip
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    counts = {
        "interview": int(size),
        "instrument_answer": conn.execute("SELECT count(*) FROM instrument_answer").fetchone()[0],
        "interview_score": conn.execute("SELECT count(*) FROM interview_score").fetchone()[0],
    }
    conn.close()
    return counts


def _context(config: Path):
    sys.path.insert(0, str(REPO))
    from followup.context import Context

    return Context.open(str(config))


def section(config: Path) -> None:
    """The section as the report runs it; prints {"wall": s, "cpu": s}."""
    from sqlalchemy.orm import Session

    ctx = _context(config)
    from followup.report import instruments_section, queries
    from followup.report.build import _checkpoints
    from followup.report.disclosure import Disclosure

    with Session(ctx.engine) as session:
        labels = queries.Labels.read(session.connection(), _checkpoints(ctx, session))
        files = ctx.instruments
        wall, cpu = time.perf_counter(), time.process_time()
        tree = instruments_section.instruments(
            session, files, TODAY, None, labels, 0.95, Disclosure(5)
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert "bench10" in tree, sorted(tree)
    print(json.dumps({"wall": wall, "cpu": cpu}))


def statements(config: Path) -> list[tuple[str, list]]:
    """The section's three selects compiled for SQLite, with the labels they code by."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.orm import Session

    ctx = _context(config)
    from followup.report import instruments_section as s
    from followup.report import queries
    from followup.report.build import _checkpoints

    with Session(ctx.engine) as session:
        labels = queries.Labels.read(session.connection(), _checkpoints(ctx, session))
        revisions = s.Revisions.read(session, ctx.instruments)
    names = sorted(revisions.by_revision)
    instrument_ids = sorted({i.id for i in revisions.all()})
    instrument = revisions.by_revision[
        next(r for r in names if revisions.by_revision[r].id == "bench10")
    ]
    items = sorted({i.id for inst in revisions.all() for i in inst.items
                    if i.type in s.PAIRED_TYPES})  # fmt: skip
    values = sorted({c for inst in revisions.all() for i in inst.items for c in s._codes(i)})
    values += list(s.MISSING_CODES)
    score_names = sorted({x.id for inst in revisions.all() for x in inst.scores})
    bands = sorted({b.label for inst in revisions.all() for x in inst.scores for b in x.bands})
    out = []
    for query in (
        s.interviews_query(TODAY, None, labels, names, instrument_ids),
        s.answers_query(items, values),
        s.scores_query(score_names, bands),
    ):
        compiled = query.compile(
            dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
        )
        params = [
            v.isoformat() if isinstance(v, date) else v
            for v in (compiled.params[name] for name in compiled.positiontup)
        ]
        out.append((compiled.string, params))
    meta = {
        "checkpoints": len(labels.checkpoints) + 1,
        "items": items,
        "values": values,
        "scores": score_names,
        "bands": bands,
        "reported": [values.index(c) for c in ("once", "2_5", "over_5", "yes")],
        "answered": [values.index(c) for c in ("none", "once", "2_5", "over_5", "yes", "no")],
        "pairs": [items.index(i.id) for i in instrument.items if i.pair and i.type != "scale"],
    }
    return [*out, meta]


def bound(db: Path, compiled: Path) -> None:
    """The same selects by raw sqlite3 into numpy, and the same figures by numpy and scipy."""
    import numpy as np
    from scipy import stats

    *sql, meta = json.loads(compiled.read_text())
    conn = sqlite3.connect(db)
    wall, cpu = time.perf_counter(), time.process_time()
    arrays = []
    for text, params in sql:
        cursor = conn.execute(text, params)
        chunks = []
        while rows := cursor.fetchmany(100_000):
            chunks.append(np.array(rows, dtype=np.float64))
        arrays.append(np.concatenate(chunks))
    interviews, answers, scores = arrays
    ids = interviews[:, 0].astype(np.int64)
    person = np.where(interviews[:, 4] == 1, interviews[:, 2], interviews[:, 1]).astype(np.int64)
    cp = np.nan_to_num(interviews[:, 3], nan=-1).astype(np.int64)
    who = interviews[:, 4].astype(np.int64)
    day = interviews[:, 7]
    slots = meta["checkpoints"] * 2
    slot = cp * 2 + who
    # scores: per score and slot, n, withheld, mean, SD, quartiles, band counts
    at = np.searchsorted(ids, scores[:, 0].astype(np.int64))
    for code in range(len(meta["scores"])):
        mine = scores[:, 1] == code
        value, band, s_at = scores[mine, 2], scores[mine, 3], at[mine]
        for sl in np.unique(slot[s_at]):
            here = slot[s_at] == sl
            v = value[here]
            v = v[~np.isnan(v)]
            if v.size:
                v.mean(), v.std(ddof=1), np.percentile(v, [25, 50, 75])
            np.bincount(np.nan_to_num(band[here], nan=len(meta["bands"])).astype(np.int64))
        # change from the first checkpoint, latest interview per person
        for w in (0, 1):
            ok = ~np.isnan(value) & (who[s_at] == w)
            order = np.lexsort((ids[s_at][ok], day[s_at][ok], person[s_at][ok], cp[s_at][ok]))
            p, c, v = person[s_at][ok][order], cp[s_at][ok][order], value[ok][order]
            last = np.ones(p.size, bool)
            last[:-1] = (p[1:] != p[:-1]) | (c[1:] != c[:-1])
            p, c, v = p[last], c[last], v[last]
            present = np.unique(c)
            if present.size < 2:
                continue
            first = c == present[0]
            for later in present[1:]:
                here = c == later
                _, i, j = np.intersect1d(p[first], p[here], return_indices=True)
                d = v[here][j] - v[first][i]
                if d.size > 1:
                    d.mean(), stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
                if np.count_nonzero(d):
                    stats.wilcoxon(d, zero_method="wilcox", correction=False, method="auto")
    # items: per item, slot and code, counts (prevalence and each missing code)
    a_at = np.searchsorted(ids, answers[:, 0].astype(np.int64))
    item, value = answers[:, 1].astype(np.int64), answers[:, 2].astype(np.int64)
    k = len(meta["values"]) + 1
    table = np.bincount((item * slots + slot[a_at]) * k + value,
                        minlength=(len(meta["items"]) + 1) * slots * k)  # fmt: skip
    table = table.reshape(-1, slots, k)
    table[:, :, meta["reported"]].sum(axis=2) / np.maximum(
        table[:, :, meta["answered"]].sum(axis=2), 1
    )
    # paired items: his and her latest answer per man and checkpoint, Cohen's kappa
    participant = interviews[:, 1].astype(np.int64)
    for pair in meta["pairs"]:
        mine = item == pair
        sides = []
        for w in (0, 1):
            side = mine & (who[a_at] == w)
            key = participant[a_at][side] * meta["checkpoints"] + cp[a_at][side]
            order = np.lexsort((ids[a_at][side], day[a_at][side], key))
            key, v = key[order], value[side][order]
            last = np.ones(key.size, bool)
            last[:-1] = key[1:] != key[:-1]
            sides.append((key[last], v[last]))
        common, i, j = np.intersect1d(sides[0][0], sides[1][0], return_indices=True)
        his, hers, c = sides[0][1][i], sides[1][1][j], common % meta["checkpoints"]
        for cc in np.unique(c):
            here = c == cc
            t = np.bincount(his[here] * k + hers[here], minlength=k * k).reshape(k, k)
            n = t.sum()
            chance = t.sum(axis=1) @ t.sum(axis=0)
            (np.trace(t) * n - chance) / max(n * n - chance, 1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall": wall, "cpu": cpu}))


def timed(command: list[str], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return min(r["wall"] for r in runs), min(r["cpu"] for r in runs)


def main(n: int, base: Path, repeat: int, rebuild: bool) -> None:
    db, config, compiled = paths(n)
    ready = OUT / f"report-instruments-{n}.json"
    if rebuild or not ready.exists() or not db.exists():
        start = time.perf_counter()
        counts = build(base, n)
        counts["seconds"] = round(time.perf_counter() - start, 1)
        ready.write_text(json.dumps(counts))
    counts = json.loads(ready.read_text())
    print(
        f"database {db.relative_to(REPO)}: {counts['interview']:,} interviews, "
        f"{counts['instrument_answer']:,} answers, {counts['interview_score']:,} scores "
        f"(answers written in {counts['seconds']} s)"
    )
    compiled.write_text(json.dumps(statements(config)))
    me = [sys.executable, str(Path(__file__).with_name("report.py")), "--participants", str(n)]
    section_s, section_cpu = timed([*me, "--bound", "instrument-section"], repeat)
    bound_s, bound_cpu = timed([*me, "--bound", "instrument-bound"], repeat)
    wall, cpu = section_s / bound_s, section_cpu / bound_cpu
    print(
        f"instruments section (followup)          {section_s:7.2f} s wall {section_cpu:7.2f} s CPU"
    )
    print(
        f"bound: raw SQL + numpy/scipy, same work {bound_s:7.2f} s wall {bound_cpu:7.2f} s CPU"
        f"   ratio {wall:4.2f}x wall {cpu:4.2f}x CPU"
        f"  (target <= 2x: {'met' if max(wall, cpu) <= 2 else 'NOT met'})"
    )
