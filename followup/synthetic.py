"""A synthetic cohort, written as the four CSV files of the import contract.

Used by the demo (`followup init --demo`), the benchmarks and tests. Nothing in it is
real: names are invented, phone numbers sit in an unallocated block, dates are drawn
relative to `today`. Interviews are placed inside the windows the schedule engine gives,
so the demo looks like a programme that mostly keeps up with its follow-ups.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from followup.imports import events as events_csv
from followup.imports import participants as participants_csv
from followup.imports import partners as partners_csv
from followup.imports import staff as staff_csv
from followup.protocol import Protocol
from followup.schedule import ParticipantDates, PartnerState, plan

FIRST = [
    "Marko",
    "Ana",
    "Jelena",
    "Nikola",
    "Milica",
    "Stefan",
    "Ivana",
    "Dragan",
    "Arben",
    "Vjosa",
]
LAST = ["Petrović", "Jovanović", "Ilić", "Nikolić", "Marković", "Krasniqi", "Hoxha", "Đorđević"]
SOURCES = ["prosecutor", "court", "social_work_centre", "police", "self", "other"]
SOURCE_WEIGHTS = [30, 20, 25, 15, 5, 5]


@dataclass
class Cohort:
    staff: list[dict] = field(default_factory=list)
    participants: list[dict] = field(default_factory=list)
    partners: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def write(self, folder: Path, append: bool = False) -> dict[str, Path]:
        """The four files; `append` adds this block's rows (not the staff) to them."""
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for kind, module, rows in (
            ("staff", staff_csv, self.staff),
            ("participants", participants_csv, self.participants),
            ("partners", partners_csv, self.partners),
            ("events", events_csv, self.events),
        ):
            path = folder / f"{kind}.csv"
            files[kind] = path
            if append and kind == "staff":
                continue
            columns = [*module.REQUIRED, *module.OPTIONAL]
            with path.open("a" if append else "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
                if not append:
                    writer.writeheader()
                writer.writerows(rows)
            files[kind] = path
        return files


# Safe-contact windows the demo's partners told their workers (her site's local time).
SAFE_TIMES = (
    "Mon-Fri 10:00-12:00",
    "Mon-Fri 09:00-11:00; Sat 10:00-12:00",
    "Tue+Thu 14:00-16:00",
    "Mon-Fri 13:00-15:00",
)


def staff_for(sites: dict[str, str], rng: random.Random) -> list[dict]:
    """A team per site: two facilitators, a partner-support worker, a supervisor, an evaluator."""
    team = [
        ("F1", "facilitator"),
        ("F2", "facilitator"),
        ("PS", "partner_support"),
        ("SV", "supervisor;partner_support"),
        ("EV", "evaluator"),
        ("MG", "manager;admin"),
    ]
    rows = []
    for n, (site, language) in enumerate(sites.items()):
        for code, roles in team:
            number = 1000 + n * 10 + len(rows) % 10
            rows.append(
                {
                    "staff_id": f"{site}-{code}",
                    "site": site,
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "roles": roles,
                    "phone": f"+38169900{number:04d}",
                    "email": f"{site.lower()}-{code.lower()}@example.org",
                    "channel": "console",
                    "language": language,
                }
            )
    return rows


def cohort(
    protocols: dict[str, Protocol],
    sites: dict[str, str],
    n: int,
    today: date,
    seed: int = 1,
    partner_rate: float = 0.85,
    first: int = 1,
) -> Cohort:
    """`sites` maps site code to language; the first protocol gets most enrolments.
    Cases are numbered from `first` (a big cohort is made, and written, in blocks)."""
    rng = random.Random(seed)
    result = Cohort(staff=staff_for(sites, rng))
    protocol_ids = list(protocols)
    codes = list(sites)
    for i in range(first, first + n):
        site = codes[i % len(codes)]
        protocol = protocols[
            protocol_ids[0] if rng.random() < 0.85 or len(protocol_ids) == 1 else protocol_ids[1]
        ]
        case_id = f"{site}-{i:06d}"
        dates, status_events = _path(protocol, today, rng)
        result.participants.append(
            {
                "case_id": case_id,
                "site": site,
                "referral_source": rng.choices(SOURCES, SOURCE_WEIGHTS)[0],
                "enrolled_on": dates.enrolled_on.isoformat(),
                "protocol": protocol.id,
                "facilitator": f"{site}-F{1 + i % 2}",
            }
        )
        result.events.extend(
            {"case_id": case_id, "date": d.isoformat(), "event": e} for e, d in status_events
        )
        partner = None
        if rng.random() < partner_rate:
            consent = dates.enrolled_on + timedelta(days=rng.randint(2, 14))
            partner = PartnerState(i, consent if consent <= today and rng.random() < 0.85 else None)
            result.partners.append(
                {
                    "partner_id": f"P-{i:06d}",
                    "case_id": case_id,
                    "relationship": rng.choices(["current", "ex", "new"], [70, 25, 5])[0],
                    "consent_on": partner.consent_on.isoformat() if partner.consent_on else "",
                    "channel": "phone",
                    "phone": f"+38169800{i % 10000:04d}",
                    "email": "",
                    "support_worker": f"{site}-PS",
                    # Her safe times (no draw from rng: the cohort's figures stay as they were).
                    "safe_times": SAFE_TIMES[i % len(SAFE_TIMES)],
                }
            )
        result.events.extend(_interviews(protocol, dates, partner, case_id, today, rng))
        result.events.extend(_outcomes(dates, case_id, today, rng, partner is not None))
    return result


def _path(protocol: Protocol, today: date, rng: random.Random):
    """Enrolment to completion or dropout, cut at today."""
    enrolled = today - timedelta(days=rng.randint(0, 600))
    events: list[tuple[str, date]] = []
    admitted = start = completed = ended = None
    reason = None
    if rng.random() < 0.08:
        ended, reason = enrolled + timedelta(days=rng.randint(3, 20)), "dropped_out"
    else:
        admitted = enrolled + timedelta(days=rng.randint(5, 21))
        start = admitted + timedelta(days=rng.randint(5, 14))
        planned_end = protocol.programme.length.after(start)
        if rng.random() < 0.8:
            completed = planned_end + timedelta(days=rng.randint(-7, 28))
        else:
            ended = start + timedelta(days=rng.randint(7, (planned_end - start).days))
            reason = rng.choices(["dropped_out", "excluded"], [85, 15])[0]
    for kind, day in (
        ("admitted", admitted),
        ("programme_start", start),
        ("completed", completed),
        (reason, ended),
    ):
        if day is not None and day <= today:
            events.append((kind, day))
    known = dict(events)
    dates = ParticipantDates(
        enrolled_on=enrolled,
        admitted_on=known.get("admitted"),
        programme_start_on=known.get("programme_start"),
        completed_on=known.get("completed"),
        ended_on=known.get(reason) if reason else None,
    )
    return dates, events


def _yes(rng: random.Random, p: float) -> str:
    return "yes" if rng.random() < p else "no"


def _interviews(protocol, dates, partner, case_id, today, rng) -> list[dict]:
    rows = []
    for item in plan(protocol, dates, [partner] if partner else []):
        if item.window_opens_on > today or item.provisional:
            continue
        is_partner = item.partner_key is not None
        if rng.random() > (0.65 if is_partner else 0.8):
            continue  # not reached: it will show as missed or overdue
        # A window can open before the enrolment (a partner's end-of-participation contact
        # for a man who left within days); nobody is interviewed before it.
        opens = max(item.window_opens_on, dates.enrolled_on)
        last = min(item.window_closes_on + timedelta(days=14), today)
        span = (last - opens).days
        on = opens + timedelta(days=rng.randint(0, max(span, 0)))
        # Partners report more violence than the men do: the seeds' central lesson.
        rate = 0.12 if is_partner else 0.05
        rows.append(
            {
                "case_id": case_id,
                "date": on.isoformat(),
                "event": "interview",
                "informant": "partner" if is_partner else "participant",
                "checkpoint": item.checkpoint,
                "physical": _yes(rng, rate),
                "sexual": _yes(rng, rate / 3),
                "psychological": _yes(rng, rate * 3),
                "economic": _yes(rng, rate),
                "coercive": _yes(rng, rate * 2) if rng.random() < 0.9 else "",
                "partner_id": f"P-{case_id.split('-')[1]}" if is_partner else "",
            }
        )
    return rows


def _outcomes(dates, case_id, today, rng, has_partner: bool) -> list[dict]:
    end = dates.completed_on or dates.ended_on
    if end is None:
        return []
    rows = []
    p_reoffend = 0.12 if dates.completed_on else 0.3
    if rng.random() < p_reoffend:
        day = end + timedelta(days=rng.randint(10, 420))
        if day <= today:
            source = rng.choices(
                ["partner", "police", "participant", "social_services"], [45, 35, 5, 15]
            )[0]
            if source == "partner" and not has_partner:
                source = "police"
            rows.append(
                {
                    "case_id": case_id,
                    "date": day.isoformat(),
                    "event": "recidivism",
                    "source": source,
                    "physical": _yes(rng, 0.6),
                    "psychological": "yes",
                    "reported_on": (day + timedelta(days=rng.randint(0, 10))).isoformat()
                    if day + timedelta(days=10) <= today
                    else day.isoformat(),
                }
            )
    check = end + timedelta(days=180)
    if check <= today and rng.random() < 0.6:
        rows.append(
            {
                "case_id": case_id,
                "date": check.isoformat(),
                "event": "record_check",
                "new_offence": "no",
            }
        )
    return rows
