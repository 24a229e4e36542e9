"""CSV imports: staff, participants, partners, events (columns per DESIGN.md).

A file is imported whole or not at all: every row is checked first and every problem
reported as `FILE:ROW: column: message`; only a clean file is written, in one
transaction. What re-importing does is documented per kind in each module.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from followup.audit import audit
from followup.context import Context
from followup.db import transaction
from followup.imports import events, participants, partners, staff
from followup.imports.csvfile import Problems, read_rows
from followup.imports.progress import Progress, Silent
from followup.imports.result import ImportResult

KINDS: dict[str, ModuleType] = {
    "staff": staff,
    "participants": participants,
    "partners": partners,
    "events": events,
}


def import_csv(
    ctx: Context, kind: str, path: str | Path, progress: Progress | None = None
) -> ImportResult:
    module = KINDS[kind]
    progress = progress or Silent()
    path = Path(path)
    rows = read_rows(path, module.REQUIRED, module.OPTIONAL)
    result = ImportResult(kind, str(path), rows=len(rows))
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        problems = Problems(str(path))
        progress.stage(f"checking {path.name}", len(rows))
        checked = module.check(session, ctx, rows, problems, progress)
        problems.raise_if_any()
        progress.stage(f"writing {path.name}", len(rows))
        module.write(session, ctx, checked, result, progress)
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
        )
    return result
