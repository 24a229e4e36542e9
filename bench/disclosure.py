"""How much small-cell suppression hides, and whether the linear-programming audit passes.

    .venv/bin/python bench/disclosure.py [--sizes 60,300,3000] [--seed 7]

For each size, a synthetic cohort (followup.synthetic, the demo's generator) of that many
men at three sites is imported through the CSV contract into a fresh SQLite database, and
the suppressed report is built as `followup report --format json` builds it, without
groups and `--by site`. Printed per report: the counts it publishes, how many are hidden
as small (`<5`) and to protect them (`suppressed`), the share hidden (and the share
hidden to protect others, which is what the choice of complementary cells decides), whether the
report's own audit passed, whether the independent attacker of the tests
(tests/report/attacker.py, which reads only the JSON) pinned anything, and the time the
report took. Target (issue 9): at 3,000 men, under 10% hidden with the audit passing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from followup.cli import main as followup  # noqa: E402
from followup.synthetic import cohort  # noqa: E402

SITES = {"BG": "sr-Latn", "NS": "sr-Latn", "PRE": "sq"}


def run(config: Path, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            followup(["--config", str(config), *args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if code:
        raise SystemExit(f"followup {' '.join(args)}: {err.getvalue().strip()}")
    return out.getvalue()


def deployment(folder: Path, size: int, seed: int) -> Path:
    config = folder / "config.toml"
    sites = "".join(
        f'[sites.{code}]\nname = "Centre {code}"\ntimezone = "Europe/Belgrade"\n'
        f'language = "{language}"\n'
        for code, language in SITES.items()
    )
    config.write_text(
        textwrap.dedent(f"""
        [database]
        url = "sqlite:///{folder / "followup.db"}"
        [protocols]
        directory = "{REPO / "schedules"}"
        active = ["undp-serbia", "wwp-europe"]
        [analysis]
        indicators = "{REPO / "analysis" / "indicators.toml"}"
        """)
        + sites
    )
    run(config, "init")
    from followup.context import Context

    ctx = Context.open(str(config))
    data = cohort(ctx.protocols, SITES, size, date.today(), seed=seed)
    ctx.engine.dispose()
    files = data.write(folder / "csv")
    for kind in ("staff", "participants", "partners", "events"):
        run(config, "import", kind, str(files[kind]))
    return config


def attacker_findings(report: dict) -> list[str] | None:
    try:
        sys.path.insert(0, str(REPO))
        from tests.report.attacker import findings
    except ImportError:  # the tests are not shipped with every install
        return None
    return findings(report)


def measure(config: Path, *args: str) -> dict:
    started = time.perf_counter()
    report = json.loads(run(config, "report", "--format", "json", *args))
    seconds = time.perf_counter() - started
    s = report["suppression"]
    hidden = s["counts_hidden"]
    share = (hidden["small"] + hidden["complementary"]) / s["counts_published"]
    found = attacker_findings(report)
    return {
        "published": s["counts_published"],
        "small": hidden["small"],
        "complementary": hidden["complementary"],
        "share": share,
        "audit": s["audit"]["passed"],
        "attacker": "n/a" if found is None else ("nothing" if not found else f"{len(found)}"),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="60,300,3000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'men':>6} {'report':<10} {'counts':>6} {'<5':>5} {'supp.':>5} {'hidden':>7} "
        f"{'of which supp.':>14} {'audit':>6} {'attacker':>9} {'time':>6}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="followup-disclosure-") as tmp:
            config = deployment(Path(tmp), size, args.seed)
            for name, options in (("all", ()), ("by site", ("--by", "site"))):
                m = measure(config, *options)
                print(
                    f"{size:>6} {name:<10} {m['published']:>6} {m['small']:>5} "
                    f"{m['complementary']:>5} {100 * m['share']:>6.1f}% "
                    f"{100 * m['complementary'] / m['published']:>13.1f}% "
                    f"{'passed' if m['audit'] else 'FAILED':>6} {m['attacker']:>9} "
                    f"{m['seconds']:>5.1f}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
