from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ImportResult:
    kind: str
    path: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already imported with the same values (re-import)
    people_replanned: int = 0

    def summary(self) -> str:
        return (
            f"{self.path}: {self.rows} {self.kind} row(s): {self.created} new, "
            f"{self.updated} updated, {self.unchanged} already present"
        )
