"""The school year as the NRW school holiday calendar gives it: when the summer holidays begin
and when a school half-year ends, for a weekly search "until the summer holidays".

The calendar is the file shipped in ``booking/data`` that the closures import offers as "school
holidays" (``closures.HOLIDAY_FILES["school"]``): the same periods that become the schools'
closures, read from the file so the answer does not depend on which sites imported it.

The rules, in full:
- the summer holidays are the holiday periods of at least four weeks (in NRW only the summer
  holidays last that long);
- "until the summer holidays" ends on the day before the next summer holidays begin;
- the first school half-year runs from the end of the summer holidays to 31 January, the
  second from 1 February to the day before the summer holidays; "until the end of this school
  half-year" ends on the last day of the half-year the first date falls in (a first date in
  the summer holidays belongs to the coming school year's first half).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from importlib import resources

from booking.services.closures import HOLIDAY_FILES, ImportedPeriod, parse_ics_periods
from booking.services.errors import N_, InvalidRequest

SUMMER_MIN_LENGTH = timedelta(weeks=4)


@cache
def school_holidays() -> tuple[ImportedPeriod, ...]:
    """The periods of the shipped school holiday calendar, first first."""
    name = HOLIDAY_FILES["school"]
    data = resources.files("booking").joinpath("data", name).read_bytes()
    return tuple(parse_ics_periods(data))


def _summer_holidays() -> list[ImportedPeriod]:
    return [
        p
        for p in school_holidays()
        if p.last_day - p.first_day + timedelta(days=1) >= SUMMER_MIN_LENGTH
    ]


def _unknown(field: str) -> InvalidRequest:
    last = max(p.last_day for p in school_holidays())
    return InvalidRequest(
        N_(
            "The school holiday calendar only reaches until %(last)s. Please give an end date "
            "or a number of weeks."
        ),
        field,
        code="school_calendar_ends",
        last=last.isoformat(),
    )


def until_summer_holidays(first: date, *, field: str = "weekly_until") -> date:
    """The day before the first summer holidays that begin after ``first``."""
    for summer in _summer_holidays():
        if summer.first_day > first:
            return summer.first_day - timedelta(days=1)
    raise _unknown(field)


def end_of_half_year(first: date, *, field: str = "weekly_until") -> date:
    """The last day of the school half-year ``first`` falls in (see the module's rules)."""
    summers = _summer_holidays()
    for summer in summers:
        if first > summer.last_day:
            continue
        if first >= summer.first_day:  # in the summer holidays: the coming first half-year
            return date(summer.first_day.year + 1, 1, 31)
        january = date(summer.first_day.year, 1, 31)
        return january if first <= january else summer.first_day - timedelta(days=1)
    if summers and first <= date(summers[-1].last_day.year + 1, 1, 31):
        return date(summers[-1].last_day.year + 1, 1, 31)  # the first half needs no summer
    raise _unknown(field)
