from __future__ import annotations

from dataclasses import dataclass, field

MAX_NOTES = 20  # notes printed; the count says how many more


@dataclass
class ImportResult:
    kind: str
    path: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already imported with the same values (re-import)
    people_replanned: int = 0
    # Rows imported, but not as they say, and why (`FILE:ROW: column: what`), e.g. her
    # worker's newer safe-contact plan kept over the file's.
    notes: list[str] = field(default_factory=list)
    noted: int = 0

    def note(self, row: int, column: str, message: str) -> None:
        self.noted += 1
        if len(self.notes) < MAX_NOTES:
            self.notes.append(f"{self.path}:{row}: {column}: {message}")

    def summary(self) -> str:
        text = (
            f"{self.path}: {self.rows} {self.kind} row(s): {self.created} new, "
            f"{self.updated} updated, {self.unchanged} already present"
        )
        if self.noted:
            more = self.noted - len(self.notes)
            text += f"; {self.noted} row(s) to look at:\n" + "\n".join(
                f"  {line}" for line in self.notes
            )
            if more:
                text += f"\n  … and {more} more"
        return text
