"""Import cost: `followup import` of 100,000 participants with partners and events,
against raw `sqlite3.executemany` of the same rows into the same schema.

    .venv/bin/python bench/import.py [--participants N]

Two lower bounds are printed, because the import writes more than the CSV holds:
  raw CSV rows      read the four files with the csv module and executemany them into
                    the same tables (staff, participant, partner, event + interview)
  raw rows written  the above plus the follow-up rows the import derived (taken from
                    the imported database), i.e. everything the import leaves on disk
The import itself validates every row, enrols into protocols, plans and re-plans the
follow-ups, matches interviews to them and seals partner contact details.
"""

from __future__ import annotations

import argparse
import csv
import os
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

from followup.db import create_schema, make_engine  # noqa: E402
from followup.protocol import load_protocols  # noqa: E402
from followup.synthetic import cohort  # noqa: E402

TODAY = date(2026, 11, 24)
SITES = {"BG": "sr-Latn", "NS": "sr-Latn", "NI": "sr-Latn", "KG": "sr-Latn", "PRE": "sq"}


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


def run_import(folder: Path, files: dict[str, Path], env: dict) -> dict[str, float]:
    config = folder / "config.toml"
    config.write_text(config_text(folder / "followup.db"))
    followup = [sys.executable, "-m", "followup.cli", "--config", str(config)]
    subprocess.run([*followup, "init"], check=True, env=env, capture_output=True)
    times = {}
    for kind in ("staff", "participants", "partners", "events"):
        start = time.perf_counter()
        done = subprocess.run(
            [*followup, "import", kind, str(files[kind])], env=env, capture_output=True, text=True
        )
        times[kind] = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"import {kind} failed: {done.stderr}")
        print(f"  followup import {kind:<13}{times[kind]:8.2f} s   {done.stdout.strip()}")
    return times


def raw_insert(db: Path, files: dict[str, Path], followups: list[tuple] | None) -> float:
    """The same rows, as plain tuples, with sqlite3.executemany in one transaction."""
    engine = make_engine(f"sqlite:///{db}")
    create_schema(engine)  # the same tables and indexes
    engine.dispose()
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    now = "2026-11-24 00:00:00.000000"

    def rows(kind):
        with files[kind].open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)

    with conn:
        conn.executemany(
            "INSERT INTO site (code, name, timezone, language) VALUES (?, ?, 'Europe/Belgrade', ?)",
            [(c, c, lang) for c, lang in SITES.items()],
        )
        conn.executemany(
            "INSERT INTO staff (staff_id, site_code, name, roles, phone, email, channel, language, active)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [
                (
                    r["staff_id"],
                    r["site"],
                    r["name"],
                    r["roles"],
                    r["phone"],
                    r["email"],
                    r["channel"],
                    r["language"],
                )
                for r in rows("staff")
            ],
        )
        conn.execute("INSERT INTO protocol_revision VALUES ('r', 'undp-serbia', '{}', ?)", (now,))
        conn.executemany(
            "INSERT INTO participant (case_id, site_code, referral_source, enrolled_on, protocol_id,"
            " protocol_revision, created_at) VALUES (?, ?, ?, ?, ?, 'r', ?)",
            [
                (
                    r["case_id"],
                    r["site"],
                    r["referral_source"],
                    r["enrolled_on"],
                    r["protocol"],
                    now,
                )
                for r in rows("participants")
            ],
        )
        ids = dict(conn.execute("SELECT case_id, id FROM participant"))
        conn.executemany(
            "INSERT INTO partner (partner_id, participant_id, relationship, consent_on, channel,"
            " do_not_contact, contact_sealed, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            [
                (
                    r["partner_id"],
                    ids[r["case_id"]],
                    r["relationship"],
                    r["consent_on"] or None,
                    r["channel"],
                    (r["phone"] + r["email"]).encode(),
                    now,
                )
                for r in rows("partners")
            ],
        )
        events, interviews = [], []
        for r in rows("events"):
            if r["event"] == "interview":
                interviews.append(
                    (
                        ids[r["case_id"]],
                        r["informant"],
                        r["checkpoint"],
                        r["date"],
                        r["physical"] == "yes",
                        r["sexual"] == "yes",
                        now,
                    )
                )
            else:
                events.append((ids[r["case_id"]], r["event"], r["date"], r["source"] or None, now))
        conn.executemany(
            "INSERT INTO event (participant_id, kind, occurred_on, source, recorded_at) VALUES (?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "INSERT INTO interview (participant_id, informant, checkpoint, conducted_on, physical,"
            " sexual, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            interviews,
        )
        if followups:
            conn.executemany(
                "INSERT INTO followup (participant_id, partner_id, checkpoint, occurrence, due_on,"
                " window_opens_on, window_closes_on, provisional, assigned_staff_id, status,"
                " completed_on, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                followups,
            )
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    args = parser.parse_args()
    protocols = load_protocols(REPO / "schedules", ["undp-serbia", "wwp-europe"])
    start = time.perf_counter()
    data = cohort(protocols, SITES, args.participants, TODAY, seed=7)
    print(
        f"generated {len(data.participants):,} participants, {len(data.partners):,} partners, "
        f"{len(data.events):,} events in {time.perf_counter() - start:.1f} s"
    )
    env = {
        **os.environ,
        "FOLLOWUP_SECRET_KEY": Fernet.generate_key().decode(),
        "PYTHONPATH": str(REPO),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = data.write(folder / "csv")
        imported = run_import(folder, files, env)
        ours = sum(imported.values())
        with sqlite3.connect(folder / "followup.db") as conn:
            followups = conn.execute(
                "SELECT participant_id, partner_id, checkpoint, occurrence, due_on, window_opens_on,"
                " window_closes_on, provisional, assigned_staff_id, status, completed_on, updated_at"
                " FROM followup"
            ).fetchall()
        raw_csv = raw_insert(folder / "raw-csv.db", files, None)
        raw_all = raw_insert(folder / "raw-all.db", files, followups)
    print(f"follow-ups derived by the import: {len(followups):,}")
    print(f"followup import (4 files, 4 processes)  {ours:8.2f} s")
    print(
        f"raw executemany, CSV rows only          {raw_csv:8.2f} s   ratio {ours / raw_csv:5.2f}x"
    )
    print(
        f"raw executemany, every row written      {raw_all:8.2f} s   ratio {ours / raw_all:5.2f}x  (target <= 3x)"
    )


if __name__ == "__main__":
    main()
