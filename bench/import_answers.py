"""Import cost of instrument answers: `followup import answers` of a synthetic long file.

    .venv/bin/python bench/import_answers.py [--rows N] [--postgres URL]

Each case gives two interviews on his enrolment day: his intake (the `core` instrument,
8 items) and her first contact (`partner-followup`, 10 items), 18 rows. The people are
imported first, outside the clock; then the answers file is imported (timed, with the
load's phases) and imported again (timed: the re-import that adds nothing). Printed:
wall and CPU seconds and rows per second for each.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.fernet import Fernet  # noqa: E402

CORE = ("physical", "sexual", "psychological", "economic", "coercive", "stalking")
TIMES = ("none", "none", "none", "once", "twice", "3_5", "before_only", "dont_know")
HERS = tuple(f"{kind}_times" for kind in CORE)


def schedules(folder: Path) -> Path:
    """The shipped schedules, her first contact asking partner-followup."""
    shutil.copytree(REPO / "schedules", folder)
    protocol = folder / "undp-serbia.toml"
    line = 'name = "partner_first_contact"\n'
    protocol.write_text(
        protocol.read_text().replace(line, line + 'instrument = "partner-followup"\n', 1)
    )
    return folder


def files(folder: Path, cases: int) -> dict[str, Path]:
    rng = random.Random(7)
    people = ["case_id,site,referral_source,enrolled_on,protocol"]
    partners = ["partner_id,case_id,relationship,consent_on,channel,phone,email"]
    answers = ["case_id,partner_id,date,informant,checkpoint,instrument,item,value"]
    for n in range(cases):
        case, her = f"BG-{n:06d}", f"P-{n:06d}"
        on = (date(2026, 1, 5) + timedelta(days=n % 200)).isoformat()
        people.append(f"{case},BG,court,{on},undp-serbia")
        partners.append(f"{her},{case},current,{on},phone,+38160{n:07d},")
        his = f"{case},,{on},participant,intake_assessment,core"
        for kind in CORE:
            answers.append(f"{his},{kind},{rng.choice(('yes', 'no', 'no', 'refused'))}")
        answers.append(f"{his},felt_safety,not_applicable")
        answers.append(f"{his},risk_level,{rng.choice(('low', 'medium', 'high'))}")
        hers = f"{case},{her},{on},partner,partner_first_contact,partner-followup"
        times = {item: rng.choice(TIMES) for item in HERS}
        for item, value in times.items():
            answers.append(f"{hers},{item},{value}")
        hurt = times["physical_times"] in ("once", "twice", "3_5")
        answers.append(f"{hers},injured,{rng.choice(('yes', 'no')) if hurt else 'not_applicable'}")
        answers.append(f"{hers},felt_safety,{rng.randint(1, 5)}")
        answers.append(f"{hers},space_decide,{rng.randint(1, 5)}")
        answers.append(f"{hers},children_present,{rng.choice(('present', 'neither'))}")
    out = {}
    for kind, lines in (("participants", people), ("partners", partners), ("answers", answers)):
        out[kind] = folder / f"{kind}.csv"
        out[kind].write_text("\n".join(lines) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", help="a database URL instead of a fresh SQLite file")
    args = parser.parse_args()
    os.environ.setdefault("FOLLOWUP_SECRET_KEY", Fernet.generate_key().decode())

    from followup.cli import main as cli
    from followup.context import Context
    from followup.imports import import_files
    from followup.imports.load import Phases

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.postgres or f"sqlite:///{folder / 'followup.db'}"
        config = folder / "config.toml"
        config.write_text(
            textwrap.dedent(f"""
            [database]
            url = "{url}"
            [protocols]
            directory = "{schedules(folder / "schedules")}"
            active = ["undp-serbia"]
            [sites.BG]
            name = "Centre BG"
            timezone = "Europe/Belgrade"
            language = "sr-Latn"
            """)
        )
        try:
            cli(["--config", str(config), "init"])
        except SystemExit as exc:
            if exc.code:
                raise
        made = files(folder, max(1, args.rows // 18))
        ctx = Context.open(str(config))
        ctx.actor = "bench"
        import_files(ctx, [("participants", made["participants"]), ("partners", made["partners"])])
        for label in ("import answers", "again (nothing new)"):
            phases = Phases()
            wall, cpu = time.perf_counter(), time.process_time()
            (result,) = import_files(ctx, [("answers", made["answers"])], phases=phases)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            split = ", ".join(f"{name} {w:.2f}s" for name, (w, _) in phases.spent.items())
            print(
                f"{label:22} {result.rows} rows: wall {wall:.2f}s, CPU {cpu:.2f}s, "
                f"{result.rows / wall:,.0f} rows/s ({split}); {result.summary()}"
            )


if __name__ == "__main__":
    main()
