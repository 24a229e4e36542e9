"""Her safe-contact plan: how, when and on what terms a partner may be contacted.

A pure core: no database, no clock, no key. The plan is stored sealed on the partner
row (`Partner.plan_sealed`, opened with the vault by `followup.operations.safe_plan`)
and read here as a `SafeContactPlan`. Every path that contacts her or reminds a worker
to (recording an attempt, the interview form, the worker's reminder) asks this module:

- `allows_channel`  may we use this channel at all?
- `is_safe_at`      is this local time inside one of her safe windows?
- `next_window`     when does her next safe window open (on or after a local time)?

Safe times are written as weekday ranges with times, in her site's time zone:
"Mon-Fri 10:00-12:00; Sat 09:00-11:00". A span with no days ("10:00-12:00") holds
every day. No windows at all means no safe times were recorded: nothing is refused on
time, and the plan reads as incomplete (`missing`) so her worker asks her.
Practice this follows: SafeLives and NNEDV Safety Net — contact only as she said is
safe, never leave a message unless she said so, ask "is it safe to talk now?" first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from followup.values import MAX_SHORT, limit_length, refuse_control

# Channels she may be contacted by; the same words as the partners CSV's `channel`.
PLAN_CHANNELS = ("phone", "sms", "email", "in_person", "post")
# Which of her contact details each channel uses.
CHANNEL_DETAIL = {
    "phone": "phone",
    "sms": "phone",
    "email": "email",
    "in_person": "address",
    "post": "address",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))

_SPAN = re.compile(r"(?P<h1>[01]\d|2[0-3]):(?P<m1>[0-5]\d)-(?P<h2>[01]\d|2[0-4]):(?P<m2>[0-5]\d)")
_DAYS = re.compile(r"(?P<a>[a-z]{3})(?:-(?P<b>[a-z]{3}))?")


@dataclass(frozen=True, slots=True)
class SafeWindow:
    """Days of the week (0 Monday .. 6 Sunday) and a time span on each of them."""

    days: frozenset[int]
    starts: time
    ends: time  # time(0, 0) written as 24:00 means midnight at the end of the day

    def __str__(self) -> str:
        return f"{_days_text(self.days)}{self.starts:%H:%M}-{_end_text(self.ends)}"

    def span_on(self, day: date) -> tuple[datetime, datetime] | None:
        """This window's span on `day` as naive local datetimes, or None if not that day."""
        if day.weekday() not in self.days:
            return None
        start = datetime.combine(day, self.starts)
        end = datetime.combine(day, self.ends)
        if self.ends == time(0, 0):
            end += timedelta(days=1)
        return start, end


@dataclass(frozen=True)
class SafeContactPlan:
    """What she told her worker. Every field may be empty in an older record; the
    defaults are the safe ones (no message left, the organisation not named)."""

    channels: dict[str, str] = field(default_factory=dict)  # channel -> number or address
    windows: tuple[SafeWindow, ...] = ()
    voicemail_ok: bool = False  # may we leave a voicemail or an SMS
    may_name_organisation: bool = False
    code_word: str = ""  # a code word or a verification question
    if_someone_else_answers: str = ""  # what to do (e.g. "say wrong number, hang up")
    confirmed_on: date | None = None  # when the plan was last confirmed with her
    # The last day her worker changed or confirmed the plan on the web or the command
    # line (not a file import): a partners file dated before it does not overwrite it.
    worker_changed_on: date | None = None

    # --- questions every contact path asks ------------------------------------------

    def allows_channel(self, channel: str) -> bool:
        """A channel not in the plan is not allowed; a plan naming no channel allows
        none (her worker must ask her), except through an override with a reason."""
        return channel in self.channels

    def is_safe_at(self, local: datetime) -> bool:
        """Is this naive local time (her site's zone) inside a safe window? A plan with
        no safe times recorded refuses nothing on time."""
        if not self.windows:
            return True
        return any(
            span[0] <= local < span[1]
            for window in self.windows
            for day in (local.date() - timedelta(days=1), local.date())
            if (span := window.span_on(day)) is not None
        )

    def next_window(self, local: datetime) -> tuple[datetime, datetime] | None:
        """The safe window that is open at `local` or opens soonest after it, as naive
        local (start, end); None when no safe times are recorded."""
        if not self.windows:
            return None
        best = None
        for offset in range(-1, 8):
            day = local.date() + timedelta(days=offset)
            for window in self.windows:
                span = window.span_on(day)
                if span is None or span[1] <= local:
                    continue
                if best is None or span[0] < best[0]:
                    best = span
        return best

    def windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Her safe windows that start on `day`, earliest first."""
        spans = [span for w in self.windows if (span := w.span_on(day)) is not None]
        return sorted(spans)

    def needs_confirming(self, today: date, every_days: int) -> bool:
        """Not confirmed with her for `every_days` days (or never)."""
        return needs_confirming(self.confirmed_on, today, every_days)

    @property
    def missing(self) -> tuple[str, ...]:
        """What the plan does not say yet, for her worker to ask."""
        gaps = []
        if not self.channels:
            gaps.append("channels")
        if not self.windows:
            gaps.append("safe_times")
        return tuple(gaps)

    @property
    def safe_times_text(self) -> str:
        return windows_text(self.windows)

    def confirmed(self, on: date) -> SafeContactPlan:
        return replace(self, confirmed_on=on)

    def confirmed_by_worker(self, on: date) -> SafeContactPlan:
        """Her worker went through the plan with her on `on`."""
        return replace(self, confirmed_on=on, worker_changed_on=on)

    def same_content(self, other: SafeContactPlan) -> bool:
        """The same plan, whenever it was confirmed or changed."""
        dates = {"confirmed_on": None, "worker_changed_on": None}
        return replace(self, **dates) == replace(other, **dates)

    # --- storage ----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The sealed form (a JSON object; `Vault.seal` encrypts it)."""
        return {
            "channels": dict(self.channels),
            "safe_times": self.safe_times_text,
            "voicemail_ok": self.voicemail_ok,
            "may_name_organisation": self.may_name_organisation,
            "code_word": self.code_word,
            "if_someone_else_answers": self.if_someone_else_answers,
            "confirmed_on": self.confirmed_on.isoformat() if self.confirmed_on else None,
            "worker_changed_on": (
                self.worker_changed_on.isoformat() if self.worker_changed_on else None
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SafeContactPlan:
        data = data or {}
        confirmed = data.get("confirmed_on")
        changed = data.get("worker_changed_on")  # absent from plans sealed before it existed
        return cls(
            channels={str(k): str(v or "") for k, v in (data.get("channels") or {}).items()},
            windows=parse_safe_times(data.get("safe_times") or ""),
            voicemail_ok=bool(data.get("voicemail_ok")),
            may_name_organisation=bool(data.get("may_name_organisation")),
            code_word=str(data.get("code_word") or ""),
            if_someone_else_answers=str(data.get("if_someone_else_answers") or ""),
            confirmed_on=date.fromisoformat(confirmed) if confirmed else None,
            worker_changed_on=date.fromisoformat(changed) if changed else None,
        )


def needs_confirming(confirmed_on: date | None, today: date, every_days: int) -> bool:
    """The re-confirm rule, on the date alone: the lists read the clear date beside the
    sealed plan (Partner.plan_confirmed_on) without opening it."""
    return confirmed_on is None or (today - confirmed_on).days >= every_days


# --- parsing what people type -------------------------------------------------------


@lru_cache(maxsize=1024)  # a centre's plans share a few patterns; a load reads 100,000s
def parse_safe_times(text: str | None) -> tuple[SafeWindow, ...]:
    """ "Mon-Fri 10:00-12:00; Sat 09:00-11:00" → windows. Entries are separated by ";"
    (or "," — the old `safe_hours` form "09:00-10:00, 17:00-18:00" still reads); an
    entry without days holds every day; "24:00" ends a window at midnight. Empty → ()."""
    text = refuse_control(text or "", "safe times")
    windows = []
    for entry in (part.strip() for part in re.split(r"[;,]", text)):
        if not entry:
            continue
        # "09:00 - 10:00" and "Mon - Fri" (old files have spaces around the dash)
        entry = re.sub(r"(?<=[\da-z])\s*-\s*(?=[\da-z])", "-", entry.lower())
        words = entry.split()
        span = _SPAN.fullmatch(words[-1].replace(" ", "")) if words else None
        if span is None:
            raise ValueError(
                f"expected safe times such as 'Mon-Fri 10:00-12:00' or '10:00-12:00', got {entry!r}"
            )
        starts = time(int(span["h1"]), int(span["m1"]))
        ends = time(0, 0) if span["h2"] == "24" else time(int(span["h2"]), int(span["m2"]))
        if span["h2"] == "24" and span["m2"] != "00":
            raise ValueError(f"a window ends at 24:00 at the latest, got {entry!r}")
        if ends != time(0, 0) and ends <= starts:
            raise ValueError(
                f"a safe window ends after it starts (write 22:00-24:00 for late evening), "
                f"got {entry!r}"
            )
        days = _parse_days(words[:-1], entry)
        windows.append(SafeWindow(days, starts, ends))
    return tuple(windows)


@lru_cache(maxsize=1024)
def windows_text(windows: tuple[SafeWindow, ...]) -> str:
    return "; ".join(str(w) for w in windows)


def parse_channels(text: str | None) -> tuple[str, ...]:
    """ "phone;sms" → ("phone", "sms"): the channels she allows, in her order."""
    found = []
    for word in (w.strip().lower() for w in re.split(r"[;,\s]+", text or "")):
        if not word:
            continue
        if word not in PLAN_CHANNELS:
            raise ValueError(
                f"unknown channel {word!r}; expected one or more of {', '.join(PLAN_CHANNELS)} "
                "separated by ;"
            )
        if word not in found:
            found.append(word)
    return tuple(found)


def parse_plan_text(text: str | None, what: str) -> str:
    """A short free-text field of the plan (code word, what to do if someone else answers)."""
    return limit_length(refuse_control((text or "").strip(), what), what, MAX_SHORT)


def _parse_days(words: list[str], entry: str) -> frozenset[int]:
    if not words:
        return EVERY_DAY
    days: set[int] = set()
    for word in " ".join(words).replace(" ", "").split("+"):
        found = _DAYS.fullmatch(word[:7]) if len(word) in (3, 7) else None
        if (
            found is None
            or found["a"] not in WEEKDAYS
            or (found["b"] and found["b"] not in WEEKDAYS)
        ):
            raise ValueError(
                f"expected days such as Mon-Fri, Sat or Mon+Wed before the times, got {entry!r}"
            )
        first = WEEKDAYS.index(found["a"])
        last = WEEKDAYS.index(found["b"]) if found["b"] else first
        day = first
        while True:  # Fri-Mon wraps over the weekend
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    return frozenset(days)


def _days_text(days: frozenset[int]) -> str:
    if days == EVERY_DAY:
        return ""
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [
        WEEKDAYS[r[0]].capitalize()
        if len(r) == 1
        else f"{WEEKDAYS[r[0]].capitalize()}-{WEEKDAYS[r[-1]].capitalize()}"
        for r in runs
    ]
    return "+".join(names) + " "


def _end_text(ends: time) -> str:
    return "24:00" if ends == time(0, 0) else f"{ends:%H:%M}"
