from datetime import date

import pytest

from followup.durations import Duration


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (date(2024, 1, 31), "1 month", date(2024, 2, 29)),  # leap year: clamps to the 29th
        (date(2023, 1, 31), "1 month", date(2023, 2, 28)),
        (date(2024, 2, 29), "12 months", date(2025, 2, 28)),
        (date(2024, 8, 31), "6 months", date(2025, 2, 28)),
        (date(2024, 3, 31), "3 months", date(2024, 6, 30)),
        (date(2024, 11, 30), "3 months", date(2025, 2, 28)),
        (date(2024, 2, 28), "4 weeks", date(2024, 3, 27)),
        (date(2024, 2, 28), "1 day", date(2024, 2, 29)),
        (date(2025, 12, 31), "14 days", date(2026, 1, 14)),
    ],
)
def test_it_adds_calendar_durations_clamping_at_month_end(start, duration, expected):
    assert Duration.parse(duration).after(start) == expected


def test_repeated_months_count_from_the_first_date_and_do_not_drift():
    monthly = Duration.parse("1 month")
    start = date(2024, 1, 31)
    assert [monthly.after(start, n) for n in range(4)] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


@pytest.mark.parametrize("text", ["3 months", "3 month", "3months", " 3  Months ", "3 m"])
def test_it_reads_the_ways_managers_write_months(text):
    assert Duration.parse(text) == Duration(3, "months")


@pytest.mark.parametrize("text", ["three months", "3 fortnights", "", "3", "months"])
def test_it_refuses_what_it_cannot_read_and_says_what_it_expected(text):
    with pytest.raises(
        ValueError, match=r'expected a duration such as "14 days", "4 weeks" or "3 months"'
    ):
        Duration.parse(text)
