"""Built reports, and their renderings, kept in memory by (options, data version).

Building a report reads every enrolment, runs the statistics and the disclosure audit
(linear programming), and drawing its plots takes matplotlib a while: seconds on a
large programme, for a page evaluators change a filter on again and again. The data
rarely changes between two looks, so the web keeps what it built:

- the key is the resolved options (site, as-of date — today's when not given —, grouping,
  origin, source, suppression), the data version (followup.data_version: bumped in the
  same transaction by every write to a table a report reads, read here before the data),
  and the stamps (modification time, size) of the evaluators' files the report is made
  from (the indicators file and the report templates), so an edit to them shows at once;
- a hit still goes through the policy (the caller's operation) and still writes the
  export's audit line: a cached report is an export like any other;
- renderings (HTML with its plots, CSV, JSON) are kept with the report, per format and
  language, so each plot is drawn once per report.

At most `size` reports are kept (least recently used first out), none longer than ten
minutes (a bound on what a write made outside followup could leave stale: see
followup.data_version); each is a few hundred kilobytes whatever the size of the
programme (curves have one point per distinct day).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from followup import data_version

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from followup.context import Context
    from followup.report.build import Report, ReportOptions


# A safety net for writes no engine sees (a hand edit in psql): nothing is kept longer.
MAX_AGE_SECONDS = 600.0


@dataclass
class _Entry:
    report: Report
    renderings: dict[tuple[str, str], str] = field(default_factory=dict)
    built_at: float = field(default_factory=time.monotonic)  # a timer, not the domain's clock


class ReportCache:
    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._by_data: dict[int, _Entry] = {}  # id(report.data) -> its entry
        self._lock = threading.Lock()
        self.built = 0  # reports built (misses), for tests and the bench

    def report(self, ctx: Context, session: Session, options: ReportOptions) -> Report:
        """The report for `options` (actor set by the caller's operation), built or kept;
        audited either way, in `session`'s transaction."""
        from followup.report.build import audit_export, build_report, resolve

        options = resolve(ctx, options)
        key = self.key(ctx, session, options)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and time.monotonic() - entry.built_at > MAX_AGE_SECONDS:
                self._drop(key)
                entry = None
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None:
            audit_export(session, ctx, options)
            return replace(entry.report, options=options)
        report = build_report(ctx, session, options)
        with self._lock:
            self.built += 1
            if key not in self._entries:
                entry = _Entry(report)
                self._entries[key] = entry
                self._by_data[id(report.data)] = entry
                while len(self._entries) > self.size:
                    self._drop(next(iter(self._entries)))
        return report

    def _drop(self, key: tuple) -> None:
        gone = self._entries.pop(key)
        self._by_data.pop(id(gone.report.data), None)

    def rendering(self, report: Report, fmt: str, language: str, render: Callable[[], str]) -> str:
        """`render()`'s text for `report` in `fmt` and `language`, made once per report."""
        with self._lock:
            entry = self._by_data.get(id(report.data))
            text = entry.renderings.get((fmt, language)) if entry is not None else None
        if text is not None:
            return text
        text = render()
        with self._lock:
            if entry is not None and self._by_data.get(id(report.data)) is entry:
                entry.renderings[(fmt, language)] = text
        return text

    def key(self, ctx: Context, session: Session, options: ReportOptions) -> tuple:
        # The version first: what is built after it is at least as new as it says.
        version = data_version.current(session.connection())
        asked = tuple(sorted((k, v) for k, v in asdict(options).items() if k not in _NOT_KEY))
        return (version, asked, _stamps(ctx))


_NOT_KEY = ("actor", "format")  # who asked and what for: audited, but the report is the same


def _stamps(ctx: Context) -> tuple:
    from followup.report.build import _template_dirs

    files = [ctx.config.resolve(ctx.config.analysis.indicators)]
    for folder in _template_dirs(ctx):
        files += sorted(Path(folder).glob("*.j2"))
    out = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            out.append((str(path), None))
        else:
            out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def warm_up() -> None:
    """Import what a report needs and draw one small plot, so the first Outcomes page
    after the service starts does not pay for them (numpy, scipy, matplotlib and its
    font list take seconds on a cold start). Called once at the web app's startup."""
    from scipy.optimize import linprog  # the disclosure audit's solver (imported lazily there)

    import followup.report.build  # noqa: F401  (numpy, scipy, the statistics)
    import followup.report.disclosure  # noqa: F401
    import followup.report.html  # noqa: F401  (jinja2 templates)
    import followup.report.render  # noqa: F401
    import followup.report.tidy  # noqa: F401
    from followup.report.plots import survival_svg

    linprog([1.0], bounds=[(0, 1)], method="highs")
    point = {"t": 1.0, "survival": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    survival_svg([("warm-up", [point])], [0, 1], "warm-up")
