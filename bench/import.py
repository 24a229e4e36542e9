"""Import cost: `followup import --all` of a synthetic export, against the fair bound of
writing every row the import leaves, raw, with the same connection settings.

    .venv/bin/python bench/import.py [--participants N] [--per-file] [--no-bound]

Printed, for one run on this machine:
  followup import --all   one process: wall, CPU (user+sys), peak RSS, and the split by
                          phase (read, check, write, plan and match, alerts)
  --per-file              also the four single-file imports, one process each, with
                          their own wall, CPU and peak RSS (each file re-plans the people
                          it touches: the path a load avoids)
  fair bound              read the four CSV files with the csv module, and executemany
                          every row the import wrote (staff, participant, partner, event,
                          interview, follow-up, safety alert — taken from the imported
                          database) into a fresh database of the same schema, over a
                          sqlite3 connection with the import's own settings (WAL,
                          synchronous=NORMAL, 64 MiB page cache, temp_store=MEMORY,
                          foreign keys on): the least any import of these files must do
The ratio import / bound is the headline (target <= 3x at 100,000); peak RSS should be
flat in the file size (target < 1 GiB at 1,000,000).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.fernet import Fernet  # noqa: E402

TODAY = date(2026, 11, 24)
SITES = {"BG": "sr-Latn", "NS": "sr-Latn", "NI": "sr-Latn", "KG": "sr-Latn", "PRE": "sq"}
BLOCK = 100_000  # cases generated (and held in memory) at a time
PRAGMAS = (  # followup.db._sqlite_pragmas: the import's own connection settings
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)
TABLES = ("site", "staff", "protocol_revision", "participant", "partner", "event")
TABLES += ("followup", "interview", "safety_alert")  # in foreign-key order


def config_text(db: Path) -> str:
    sites = "\n".join(
        f'[sites.{code}]\nname = "Centre {code}"\ntimezone = "Europe/Belgrade"\nlanguage = "{lang}"\n'
        for code, lang in SITES.items()
    )
    return (
        textwrap.dedent(f"""
        [database]
        url = "sqlite:///{db}"
        [protocols]
        directory = "{REPO / "schedules"}"
        active = ["undp-serbia", "wwp-europe"]
        """)
        + sites
    )


def generate(folder: Path, participants: int) -> dict[str, Path]:
    from followup.protocol import load_protocols
    from followup.synthetic import cohort

    protocols = load_protocols(REPO / "schedules", ["undp-serbia", "wwp-europe"])
    files: dict[str, Path] = {}
    for n, first in enumerate(range(1, participants + 1, BLOCK)):
        size = min(BLOCK, participants + 1 - first)
        block = cohort(protocols, SITES, size, TODAY, seed=7 + n, first=first)
        files = block.write(folder, append=n > 0)
    return files


class Children:
    """CPU and peak RSS of each child, from the RUSAGE_CHILDREN totals around it."""

    def __init__(self) -> None:
        self.before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def run(self, command: list[str], env: dict) -> tuple[subprocess.CompletedProcess, dict]:
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - self.before.ru_utime) + (after.ru_stime - self.before.ru_stime)
        self.before = after
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: each run is measured
        # in its own wrapper process below, which reports its own peak.
        return done, {"wall": wall, "cpu": cpu}


CHILD = """
import json, sys
sys.path.insert(0, {repo!r})
from followup.context import Context
from followup.imports import import_files
from followup.imports.load import Phases
ctx = Context.open({config!r})
ctx.actor = "bench"
phases = Phases()
results = import_files(ctx, {sources!r}, phases=phases)
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report
# the bench's own peak (the generated cohort) whenever that was higher than its own.
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"phases": phases.spent,
                  "summary": [r.summary() for r in results],
                  "rss_kib": int(peak.split()[1])}}))
"""


def run_load(folder: Path, config: Path, sources: list[tuple[str, str]], env, children):
    script = CHILD.format(repo=str(REPO), config=str(config), sources=sources)
    done, cost = children.run([sys.executable, "-c", script], env)
    if done.returncode != 0:
        sys.exit(f"import failed: {done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return cost | {"rss_mib": report["rss_kib"] / 1024, "phases": report["phases"]}, report


def init(folder: Path, env) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(config_text(folder / "followup.db"))
    command = [sys.executable, "-m", "followup.cli", "--config", str(config), "init"]
    subprocess.run(command, check=True, env=env, capture_output=True)
    return config


def fair_bound(imported: Path, target: Path, files: dict[str, Path]) -> dict:
    """Read the CSV files; executemany every row the import wrote, same settings."""
    from followup.db import create_schema, make_engine

    engine = make_engine(f"sqlite:///{target}")
    create_schema(engine)  # the same tables and indexes
    engine.dispose()
    wall = cpu = 0.0

    def timed(work):
        nonlocal wall, cpu
        w, c = time.perf_counter(), time.process_time()
        result = work()
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        return result

    def read_csv(path: Path) -> int:
        count = 0
        with path.open(newline="", encoding="utf-8") as handle:
            for _ in csv.reader(handle):
                count += 1
        return count

    for path in files.values():
        timed(lambda path=path: read_csv(path))
    conn = sqlite3.connect(target, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    source = sqlite3.connect(imported)
    rows = 0
    conn.execute("BEGIN")
    for table in TABLES:
        columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
        insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
        while chunk := cursor.fetchmany(50_000):  # read outside the clock
            timed(lambda chunk=chunk, insert=insert: conn.executemany(insert, chunk))
            rows += len(chunk)
    timed(lambda: conn.execute("COMMIT"))
    conn.close()
    source.close()
    return {"wall": wall, "cpu": cpu, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--per-file", action="store_true", help="also the four single-file imports")
    parser.add_argument("--no-bound", action="store_true", help="skip the fair bound")
    args = parser.parse_args()
    env = {
        **os.environ,
        "FOLLOWUP_SECRET_KEY": Fernet.generate_key().decode(),
        "PYTHONPATH": str(REPO),
    }
    children = Children()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        files = generate(folder / "csv", args.participants)
        counts = {kind: sum(1 for _ in path.open()) - 1 for kind, path in files.items()}
        size = sum(path.stat().st_size for path in files.values()) / 2**20
        print(
            f"generated {counts['participants']:,} participants, {counts['partners']:,} partners, "
            f"{counts['events']:,} events ({size:,.0f} MiB of CSV) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        config = init(folder / "load", env)
        sources = [(kind, str(path)) for kind, path in files.items()]
        ours, report = run_load(folder / "load", config, sources, env, children)
        imported = folder / "load" / "followup.db"
        with sqlite3.connect(imported) as conn:
            follow_ups = conn.execute("SELECT count(*) FROM followup").fetchone()[0]
        print(f"follow-ups derived by the import: {follow_ups:,}")
        print(
            f"followup import --all          wall {ours['wall']:8.2f} s   CPU {ours['cpu']:8.2f} s"
            f"   peak RSS {ours['rss_mib']:7.0f} MiB"
        )
        for name, (wall, cpu) in ours["phases"].items():
            print(f"  {name:<28}wall {wall:8.2f} s   CPU {cpu:8.2f} s")
        if args.per_file:
            config = init(folder / "per-file", env)
            for kind, path in sources:
                cost, _ = run_load(folder / "per-file", config, [(kind, path)], env, children)
                print(
                    f"followup import {kind:<13} wall {cost['wall']:8.2f} s   CPU "
                    f"{cost['cpu']:8.2f} s   peak RSS {cost['rss_mib']:7.0f} MiB"
                )
        if not args.no_bound:
            bound = fair_bound(imported, folder / "raw.db", files)
            print(
                f"fair bound (csv read + raw executemany of {bound['rows']:,} rows written, "
                f"same settings)\n"
                f"                               wall {bound['wall']:8.2f} s   CPU "
                f"{bound['cpu']:8.2f} s"
            )
            print(
                f"ratio import / fair bound: wall {ours['wall'] / bound['wall']:.2f}x, "
                f"CPU {ours['cpu'] / bound['cpu']:.2f}x  (target <= 3x at 100,000)"
            )


if __name__ == "__main__":
    main()
