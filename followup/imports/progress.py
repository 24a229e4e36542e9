"""Progress of a long import, reported in stages ("checking", "writing").

The import code only calls these two methods; the CLI draws a bar on a terminal and
tests pass `Silent`.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, label: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...


class Silent:
    def stage(self, label: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass
