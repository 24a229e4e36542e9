"""Durations as managers write them in protocol files: "3 months", "4 weeks", "14 days".

Calendar months are calendar months (31 Jan + 1 month = 29 Feb 2024, clamped at the
month's end), which is what a social worker means by "three months after completion";
dateutil's relativedelta does exactly that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

_UNITS = {
    "day": "days",
    "days": "days",
    "d": "days",
    "week": "weeks",
    "weeks": "weeks",
    "w": "weeks",
    "month": "months",
    "months": "months",
    "m": "months",
}
_PATTERN = re.compile(r"^\s*(-?\d+)\s*([a-z]+)\s*$")


@lru_cache(maxsize=256)
def _months(count: int) -> relativedelta:
    # relativedelta objects are immutable in use here; building one costs more than
    # adding it, and an import adds the same few hundred thousands of times.
    return relativedelta(months=count)


@dataclass(frozen=True, order=True)
class Duration:
    amount: int
    unit: str  # "days" | "weeks" | "months"

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _PATTERN.match(str(text).lower())
        if not match or match.group(2) not in _UNITS:
            raise ValueError(
                f'expected a duration such as "14 days", "4 weeks" or "3 months", got {text!r}'
            )
        return cls(int(match.group(1)), _UNITS[match.group(2)])

    def after(self, day: date, times: int = 1) -> date:
        """The date `times` durations after `day` (months clamp at month end)."""
        if self.unit == "months":
            return day + _months(self.amount * times)
        # Days and weeks are exact: timedelta is several times cheaper than relativedelta,
        # which matters when an import plans a million follow-ups.
        return day + timedelta(days=self.amount * times * (7 if self.unit == "weeks" else 1))

    def __str__(self) -> str:
        unit = self.unit[:-1] if abs(self.amount) == 1 else self.unit
        return f"{self.amount} {unit}"
