"""VTIMEZONE components with RRULE-style observances, derived from ``zoneinfo``.

icalendar's ``Timezone.from_tzid`` lists every transition as ``RDATE`` values. Outlook shifts
events under such blocks and ``vobject`` reads them wrongly, so we derive yearly rules instead:
each run of transitions that happen on the same weekday-of-month, at the same local time and
with the same offsets in consecutive years becomes one ``STANDARD``/``DAYLIGHT`` observance with
``RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..``. A run that ends inside the scanned range gets an
``UNTIL``; an irregular transition gets an observance of its own (a ``DTSTART`` without rule).
The scan reaches a year past both ends of the feed window, so every date in the window is
covered by an observance that began before it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MARGIN = timedelta(days=400)


@dataclass(frozen=True)
class Transition:
    at: datetime  # the UTC instant of the change
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def local_onset(self) -> datetime:
        """The onset in local wall time before the change (how VTIMEZONE writes DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    @property
    def ordinal(self) -> int:
        """Which weekday of its month: 1..4, or -1 for the last one."""
        day = self.local_onset.day
        month_length = calendar.monthrange(self.local_onset.year, self.local_onset.month)[1]
        return -1 if day > month_length - 7 else (day - 1) // 7 + 1

    @property
    def rule_key(self) -> tuple:
        onset = self.local_onset
        return (
            self.daylight,
            self.offset_from,
            self.offset_to,
            self.name,
            onset.month,
            onset.weekday(),
            self.ordinal,
            onset.time(),
        )


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta, str, bool]:
    local = instant.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.tzname() or "", bool(local.dst())


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[Transition]:
    """Every change of offset, name or DST flag between two UTC instants."""
    found: list[Transition] = []
    step = timedelta(hours=12)
    current, state = start, _state(zone, start)
    while current < end:
        following = current + step
        next_state = _state(zone, following)
        if next_state != state:
            low, high = current, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _state(zone, middle) == state:
                    low = middle
                else:
                    high = middle
            at = high.replace(microsecond=0)
            if _state(zone, at - timedelta(seconds=1)) != state:
                at -= timedelta(seconds=1)
            found.append(Transition(at, state[0], next_state[0], next_state[1], next_state[2]))
            state = next_state
        current = following
    return found


def _runs(found: list[Transition]) -> list[list[Transition]]:
    """Group transitions of one yearly rule in consecutive years."""
    groups: dict[tuple, list[list[Transition]]] = {}
    for transition in found:
        runs = groups.setdefault(transition.rule_key, [])
        if runs and runs[-1][-1].local_onset.year == transition.local_onset.year - 1:
            runs[-1].append(transition)
        else:
            runs.append([transition])
    return sorted((run for runs in groups.values() for run in runs), key=lambda r: r[0].at)


def vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """A VTIMEZONE for ``tzid`` whose offsets equal ``zoneinfo`` for every day first..last."""
    zone = ZoneInfo(tzid)
    scan_start = datetime.combine(first, time(), UTC) - _MARGIN
    scan_end = datetime.combine(last, time(), UTC) + _MARGIN
    found = transitions(zone, scan_start, scan_end)
    component = Timezone()
    component.add("tzid", tzid)
    if not found:
        offset, name, daylight = _state(zone, scan_start)
        observance = TimezoneDaylight() if daylight else TimezoneStandard()
        observance.add("dtstart", datetime(1970, 1, 1))
        observance.add("tzoffsetfrom", offset)
        observance.add("tzoffsetto", offset)
        if name:
            observance.add("tzname", name)
        component.add_component(observance)
        return component
    last_year = found[-1].local_onset.year
    for run in _runs(found):
        head = run[0]
        observance = TimezoneDaylight() if head.daylight else TimezoneStandard()
        observance.add("dtstart", head.local_onset)
        observance.add("tzoffsetfrom", head.offset_from)
        observance.add("tzoffsetto", head.offset_to)
        if head.name:
            observance.add("tzname", head.name)
        if len(run) > 1:
            onset = head.local_onset
            rule: dict = {
                "freq": "yearly",
                "bymonth": onset.month,
                "byday": f"{head.ordinal}{_WEEKDAYS[onset.weekday()]}",
            }
            # A rule still in force at the end of the scan keeps going; one that stopped ends.
            if run[-1].local_onset.year < last_year - 1:
                rule["until"] = run[-1].at
            observance.add("rrule", rule)
        component.add_component(observance)
    return component
