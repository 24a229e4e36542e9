"""One load: the CSV files of an import, checked and written together in one transaction.

`followup import --all DIR` (or several KIND FILE pairs, or one) comes here. Staff are
written first; then the people files (participants, partners, events, answers, attempts)
are split into parts by case — every row of a case, in any file, lands in the same part — and each part
is checked, written and planned in turn:

- each person's timeline is built first (enrolment, partners, status dates), then his
  follow-ups are planned once, and the part's interviews are matched to them in memory,
  so each follow-up is written once, with its final dates and status;
- then the part's contact attempts are checked against those follow-ups and applied,
  per follow-up in time order (followup.imports.attempts);
- memory holds one part at a time, so a file of a million cases reads in about the
  memory of a few thousand (the parts wait in temporary files, a line per row);
- the checks of a part read only the database rows of its cases.

All or nothing: every problem in every file is collected (as `FILE:ROW: column:
message`), and a load with any problem is rolled back whole.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from followup import alerts
from followup.audit import audit
from followup.context import Context
from followup.db import transaction
from followup.errors import CsvRejected, FollowupError
from followup.imports import answers, attempts, events, participants, partners, staff
from followup.imports.batch import Batch
from followup.imports.csvfile import Problems, Row, iter_cells, iter_rows
from followup.imports.progress import Progress, Silent
from followup.imports.result import ImportResult
from followup.imports.settle import settle

KINDS: dict[str, ModuleType] = {
    "staff": staff,
    "participants": participants,
    "partners": partners,
    "events": events,
    "answers": answers,
    "attempts": attempts,
}
ORDER = tuple(KINDS)  # the order a load applies its files in
PEOPLE = ("participants", "partners", "events", "answers", "attempts")
# Checked after the part's people are planned: attempts name follow-ups, which a load's
# enrolments and status dates create and move.
AFTER_PLAN = ("attempts",)
# The size of the files (in bytes of CSV) kept in memory at once; a bigger load is split
# into parts of about this size. 2 MiB is ~3,000 cases with their partners and events.
PART_BYTES = 2 * 2**20
FILE_NAMES = {kind: f"{kind}.csv" for kind in ORDER}
REPEAT_KEYS = {"participants": "case_id", "partners": "partner_id"}  # one row per key


def files_in(folder: str | Path) -> list[tuple[str, Path]]:
    """The import files a folder holds, by their names (staff.csv, participants.csv, …)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FollowupError(
            f"{folder}: not a folder. Hint: --all takes the folder of the CSV files"
        )
    found = [(kind, folder / name) for kind, name in FILE_NAMES.items() if (folder / name).exists()]
    if not found:
        raise FollowupError(
            f"{folder}: no import files; expected one or more of {', '.join(FILE_NAMES.values())}"
        )
    return found


class Phases:
    """Wall and CPU seconds per phase of a load (bench/import.py prints them)."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            total = self.spent.setdefault(name, [0.0, 0.0])
            total[0] += time.perf_counter() - wall
            total[1] += time.process_time() - cpu


def import_files(
    ctx: Context,
    sources: Iterable[tuple[str, str | Path]],
    progress: Progress | None = None,
    phases: Phases | None = None,
) -> list[ImportResult]:
    """Import the files (kind, path) together: all of them, or nothing."""
    progress = progress or Silent()
    phase = phases or Phases()
    # The collector would walk every live row object again and again while a load
    # allocates hundreds of thousands of them (a third of its time, measured); a load
    # makes no garbage cycles worth collecting on the way, so it runs without.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import_files(ctx, sources, progress, phase)
    finally:
        if collecting:
            gc.enable()


def _import_files(ctx, sources, progress, phase) -> list[ImportResult]:
    sources = [(kind, Path(path)) for kind, path in sources]
    kinds = [kind for kind, _ in sources]
    for kind in kinds:
        if kind not in KINDS:
            raise FollowupError(f"unknown import kind {kind!r}; expected one of {', '.join(ORDER)}")
        if kinds.count(kind) > 1:
            raise FollowupError(f"two {kind} files in one import; give one file per kind")
    sources.sort(key=lambda source: ORDER.index(source[0]))
    results = {kind: ImportResult(kind, str(path)) for kind, path in sources}
    problems = {kind: Problems(str(path)) for kind, path in sources}
    batch = Batch()
    with transaction(ctx.engine) as session, tempfile.TemporaryDirectory() as spill:
        ctx.sync_sites(session)
        ctx.register_protocols(session)
        paths = dict(sources)
        if "staff" in paths:
            with phase("staff"):
                _import_staff(session, ctx, paths["staff"], problems, results, progress)
        people = [(kind, paths[kind]) for kind in PEOPLE if kind in paths]
        with phase("read"):
            parts = _Parts(people, Path(spill), problems, results)
        progress.stage("importing " + ", ".join(p.name for _, p in people), parts.rows)
        for part in _timed(parts, phase):
            _import_part(session, ctx, part, batch, problems, results, progress, phase)
        _raise_if_any(problems)
        for kind, path in sources:
            result = results[kind]
            audit(
                session,
                ctx.actor,
                "import",
                kind,
                path.name,
                rows=result.rows,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                **({"noted": result.noted} if result.noted else {}),
            )
    return list(results.values())


def _import_staff(session, ctx, path: Path, problems, results, progress) -> None:
    rows = list(iter_rows(path, staff.REQUIRED, staff.OPTIONAL, problems["staff"]))
    results["staff"].rows = len(rows)
    progress.stage(f"checking {path.name}", len(rows))
    checked = staff.check(session, ctx, rows, problems["staff"], progress)
    # The people files name staff: checked against a staff file with problems they
    # would only repeat them.
    problems["staff"].raise_if_any()
    staff.write(session, ctx, checked, results["staff"], progress)


def _timed(parts, phase: Phases) -> Iterator:
    """The parts, the time spent reading each back counted as reading."""
    parts = iter(parts)
    while True:
        with phase("read"):
            part = next(parts, None)
        if part is None:
            return
        yield part


def _import_part(
    session, ctx, part: dict[str, list[Row]], batch, problems, results, progress, phase
):
    batch.next_part()
    at_start = {kind: problems[kind].total for kind in problems}
    for kind in PEOPLE:
        if kind in AFTER_PLAN:
            continue
        rows = part.get(kind)
        if not rows:
            continue
        if not _check_and_write(
            session, ctx, kind, rows, batch, problems, results, progress, phase
        ):
            # Nothing more of this part is written, and the files after this one are
            # not checked for its cases: they would only repeat its problems ("case …
            # is not enrolled"). Other parts go on being checked, so every file's own
            # problems are reported; the load is rolled back at the end.
            return
    now = ctx.now()
    if batch.plan:
        with phase("plan and match"):
            replanned, unmatched = settle(session, ctx, batch, now)
        answered = answers.origin_rows(batch)
        for row, column, message in unmatched:
            kind = "answers" if id(row) in answered else "events"
            problems[kind].add(row.number, column, message)
        result = (
            results.get("events")
            or results.get("answers")
            or results.get("partners")
            or results["participants"]
        )
        result.people_replanned += replanned
        if batch.answers and not unmatched:
            with phase("write"):
                answers.write_answers(session, ctx, batch)
    if batch.events or batch.interviews:
        with phase("alerts"):
            alerts.after_import(
                session,
                ctx,
                batch.events,
                [i for _, i in batch.interviews],
                alert_bands=answers.alert_keys(batch),
            )
    if any(problems[kind].total > at_start[kind] for kind in problems):
        return  # the part's follow-ups are not as the load would leave them
    for kind in AFTER_PLAN:
        if rows := part.get(kind):
            _check_and_write(session, ctx, kind, rows, batch, problems, results, progress, phase)


def _check_and_write(session, ctx, kind, rows, batch, problems, results, progress, phase) -> bool:
    """Check a part's rows of one file and write them if they have no problem; False if
    they had one (nothing of them is written)."""
    module = KINDS[kind]
    before = problems[kind].total
    with phase("check"):
        checked = module.check(session, ctx, rows, problems[kind], progress, batch)
    progress.advance(len(rows))
    if problems[kind].total > before:
        return False
    with phase("write"):
        module.write(session, ctx, checked, results[kind], batch)
    return True


def _raise_if_any(problems: dict[str, Problems]) -> None:
    failed = [p for p in problems.values() if p.total]
    if len(failed) == 1:
        failed[0].raise_if_any()
    if failed:
        raise CsvRejected(
            ", ".join(p.path for p in failed),
            [item for p in failed for item in p.items],
            sum(p.total for p in failed),
        )


class _Parts:
    """The people files' rows grouped by case into parts of about PART_BYTES of CSV.

    A small load is one part, read straight into memory. A bigger one is read once and
    each row written to its part's temporary file (the row number and the cells, joined
    by a unit separator, which no clean cell contains, encrypted: see _Sealed), then the
    parts are read back one at a time."""

    def __init__(self, sources: list[tuple[str, Path]], spill: Path, problems, results) -> None:
        self.sources, self.spill, self.problems, self.results = sources, spill, problems, results
        size = sum(path.stat().st_size for _, path in sources if path.exists())
        self.count = max(1, -(-size // PART_BYTES))
        self.rows = 0
        self._columns: dict[str, list[str]] = {}
        self._memory: dict[str, list[Row]] | None = None
        self._sealed: dict[str, list[_Sealed]] = {}
        if self.count == 1:
            self._memory = {kind: self._read(kind, path) for kind, path in sources}
        else:
            self._split()

    def _read(self, kind: str, path: Path) -> list[Row]:
        columns: list[str] = []
        rows = [
            Row(n, dict(zip(columns, v, strict=True))) for n, v in self._cells(kind, path, columns)
        ]
        self.results[kind].rows = len(rows)
        self.rows += len(rows)
        return rows

    def _cells(self, kind: str, path: Path, columns: list[str]) -> Iterator[tuple[int, list]]:
        """The file's rows (number, values in `columns` order, see csvfile.iter_cells), a
        row repeating an earlier one's key reported and left out.

        Repeats are found here, while the file is read once, rather than part by part:
        a partner id repeated on another case lands in another part. Only the keys
        outlive the reading, so no part's rows are kept for the next."""
        module = KINDS[kind]
        problems = self.problems[kind]
        column = REPEAT_KEYS.get(kind)
        seen: dict[str, int] = {}
        at = None
        for number, values in iter_cells(path, module.REQUIRED, module.OPTIONAL, problems, columns):
            if column is not None:
                if at is None:
                    at = columns.index(column)
                if key := values[at]:
                    first = seen.setdefault(key, number)
                    if first != number:
                        problems.add(
                            number, column, f"{key!r} appears again (first on row {first})"
                        )
                        continue
            yield number, values

    def _split(self) -> None:
        for kind, path in self.sources:
            count_parts = self.count
            outs = [_Sealed(self.spill / f"{kind}.{n}") for n in range(count_parts)]
            self._sealed[kind] = outs
            columns: list[str] = []
            self._columns[kind] = columns  # filled in once the header is read
            count = 0
            case = None
            try:
                for number, values in self._cells(kind, path, columns):
                    if case is None:
                        case = columns.index("case_id")
                    # The cells, then the row number (so a line splits into the values
                    # in `columns` order, with the number last).
                    values.append(str(number))
                    line = "\x1f".join(values) + "\n"
                    outs[zlib.crc32(values[case].encode()) % count_parts].write(line)
                    count += 1
            finally:
                for out in outs:
                    out.close()
            self.results[kind].rows = count
            self.rows += count

    def __iter__(self) -> Iterator[dict[str, list[Row]]]:
        if self._memory is not None:
            yield self._memory
            self._memory = None
            return
        for n in range(self.count):
            part = {}
            for kind, _ in self.sources:
                columns = self._columns[kind]
                width = len(columns) + 1
                rows = []
                for line in self._sealed[kind][n].read_and_delete().split("\n")[:-1]:
                    cells = line.split("\x1f")
                    if len(cells) != width:  # no clean cell holds a separator
                        raise AssertionError(f"a {kind} part line has {len(cells)} cells")
                    # zip stops before the number, the last cell
                    rows.append(Row(int(cells[-1]), dict(zip(columns, cells, strict=False))))
                # A file's rows in file order, as the checks expect.
                part[kind] = rows
            yield part


class _Sealed:
    """A temporary part file, encrypted with a key that exists only in this process.

    The rows hold her phone, e-mail and what she said in interviews. A load that is
    killed leaves its temporary files behind; without the key they are noise. AES-CTR
    streams at memory speed, so sealing costs the load next to nothing."""

    BUFFER = 512  # lines gathered before one encrypt-and-write (a call per line costs)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key, self._nonce = os.urandom(32), os.urandom(16)
        self._handle = path.open("wb")
        self._encryptor = self._cipher().encryptor()
        self._lines: list[str] = []

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CTR(self._nonce))

    def write(self, text: str) -> None:
        lines = self._lines
        lines.append(text)
        if len(lines) >= self.BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self._lines:
            self._handle.write(self._encryptor.update("".join(self._lines).encode()))
            self._lines = []

    def close(self) -> None:
        if not self._handle.closed:
            self._flush()
            self._handle.write(self._encryptor.finalize())
            self._handle.close()

    def read_and_delete(self) -> str:
        decryptor = self._cipher().decryptor()
        text = (decryptor.update(self.path.read_bytes()) + decryptor.finalize()).decode()
        self.path.unlink()
        return text
