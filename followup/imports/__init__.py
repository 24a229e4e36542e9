"""CSV imports: staff, participants, partners, events, attempts (columns per DESIGN.md;
attempts: followup.imports.attempts, docs/data.md).

A file is imported whole or not at all: every row is checked and every problem reported
as `FILE:ROW: column: message`; only clean files are written, in one transaction. The
files of one load (`followup import --all DIR`) go in together, each person planned once
(followup.imports.load). What re-importing does is documented per kind in each module.
"""

from __future__ import annotations

from pathlib import Path

from followup.context import Context
from followup.imports.load import KINDS, files_in, import_files
from followup.imports.progress import Progress
from followup.imports.result import ImportResult


def import_csv(
    ctx: Context, kind: str, path: str | Path, progress: Progress | None = None
) -> ImportResult:
    """One file: a load of one."""
    (result,) = import_files(ctx, [(kind, path)], progress)
    return result


__all__ = ["KINDS", "ImportResult", "files_in", "import_csv", "import_files"]
