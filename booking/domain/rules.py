"""Why a slot cannot be booked: conflicts, closures, opening hours and the room's time rules.

``check`` reports every reason at once, so the form can show them all and a manager can decide
which ones to override (``check_time_rules=False``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.domain.slots import Slot, from_local, merge, to_local

__all__ = [
    "ALWAYS_OPEN_WEEK",
    "Busy",
    "Closure",
    "DatedHours",
    "OpeningHours",
    "Problem",
    "Reason",
    "RoomRules",
    "WeeklyWindow",
    "check",
    "describe",
    "find_overlaps",
]

_MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Closure:
    """A period in which the room cannot be used at all (holidays, renovation)."""

    slot: Slot
    reason: str


class Reason(StrEnum):
    TAKEN = "taken"
    CLOSED = "closed"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    TOO_SHORT_NOTICE = "too_short_notice"
    TOO_FAR_AHEAD = "too_far_ahead"
    IN_PAST = "in_past"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    OVER_CAPACITY = "over_capacity"


@dataclass(frozen=True)
class Problem:
    reason: Reason
    message: str
    other: Slot | None = None
    label: str | None = None


@dataclass(frozen=True)
class Busy:
    """An occupied range of a room, already widened by that booking's own buffers."""

    slot: Slot
    ref: object | None = None
    label: str | None = None


@dataclass(frozen=True)
class WeeklyWindow:
    """One opening window on a weekday, in local minutes after midnight.

    ``closes`` may be 1440 (midnight at the end of the day); a window across midnight is two
    windows (Fri 16:00-24:00 and Sat 00:00-02:00), which ``open_intervals`` joins again.
    """

    weekday: int
    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), not {self.weekday}")
        _check_window(self.opens, self.closes)


def _check_window(opens: int, closes: int) -> None:
    if not 0 <= opens < _MINUTES_PER_DAY:
        raise ValueError(f"opens must be 0..1439 minutes, not {opens}")
    if not 0 < closes <= _MINUTES_PER_DAY:
        raise ValueError(f"closes must be 1..1440 minutes, not {closes}")
    if closes <= opens:
        raise ValueError("a window must close after it opens; split windows across midnight")


# A site without weekly windows is open at any time; with dated exceptions it is this week.
ALWAYS_OPEN_WEEK = tuple(WeeklyWindow(d, 0, _MINUTES_PER_DAY) for d in range(7))


@dataclass(frozen=True)
class DatedHours:
    """Different hours on one local date (Christmas Eve 09:00-12:00), replacing that date's
    weekly windows: one window in minutes after local midnight, or closed all day (both None).
    """

    day: date
    opens: int | None = None
    closes: int | None = None

    def __post_init__(self) -> None:
        if (self.opens is None) != (self.closes is None):
            raise ValueError("give both opens and closes, or neither (closed all day)")
        if self.opens is not None and self.closes is not None:
            _check_window(self.opens, self.closes)

    @property
    def closed(self) -> bool:
        return self.opens is None


@dataclass(frozen=True)
class OpeningHours:
    """Weekly windows, and dated exceptions that replace the windows of their date.

    An exception decides its local date from 00:00 to 24:00: its one window, or nothing when
    closed. The day before keeps its own windows (one until 24:00 still ends at midnight), and
    the part after midnight of a window across midnight (Sat 00:00-02:00 after Fri 16:00-24:00)
    belongs to the later date, so an exception on that date replaces it too.
    """

    windows: tuple[WeeklyWindow, ...]
    exceptions: tuple[DatedHours, ...] = ()
    # Looked up once per day and slot: built once here, not per call.
    _by_day: dict[date, DatedHours] = field(init=False, repr=False, compare=False, hash=False)
    _by_weekday: tuple[tuple[tuple[int, int], ...], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_day: dict[date, DatedHours] = {}
        for exception in self.exceptions:
            if exception.day in by_day:
                raise ValueError(f"two exceptions on {exception.day}")
            by_day[exception.day] = exception
        by_weekday: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for w in self.windows:
            by_weekday[w.weekday].append((w.opens, w.closes))
        object.__setattr__(self, "_by_day", by_day)
        object.__setattr__(self, "_by_weekday", tuple(tuple(sorted(d)) for d in by_weekday))

    def exception_on(self, day: date) -> DatedHours | None:
        return self._by_day.get(day)

    def windows_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """The (opens, closes) windows of one local date: its exception's, else the weekday's."""
        exception = self._by_day.get(day)
        if exception is None:
            return self._by_weekday[day.weekday()]
        if exception.opens is None or exception.closes is None:
            return ()
        return ((exception.opens, exception.closes),)

    def open_intervals(self, window: Slot, tz: ZoneInfo) -> list[Slot]:
        """The UTC intervals within ``window`` in which the room is open, merged and sorted.

        Window boundaries are local wall times converted with ``from_local``, the same DST
        policy as bookings: a boundary in the spring gap (02:30) is read as 03:30 summer time,
        an ambiguous autumn boundary as its first (summer time) occurrence.
        """
        first = to_local(window.starts_at, tz).date() - timedelta(days=1)
        last = to_local(window.ends_at, tz).date()
        pieces: list[Slot] = []
        day = first
        while day <= last:
            midnight = datetime(day.year, day.month, day.day)
            for opens_at, closes_at in self.windows_on(day):
                opens = from_local(midnight + timedelta(minutes=opens_at), tz)
                closes = from_local(midnight + timedelta(minutes=closes_at), tz)
                # A window lying wholly inside the spring gap has no real instants.
                start, end = max(opens, window.starts_at), min(closes, window.ends_at)
                if start < end:
                    pieces.append(Slot(start, end))
            day += timedelta(days=1)
        return merge(pieces)

    def covers(self, slot: Slot, tz: ZoneInfo) -> bool:
        # The common case first: one window of the slot's own local day holds all of it. (Its
        # boundaries are converted exactly as ``open_intervals`` converts them.)
        local_start = to_local(slot.starts_at, tz)
        day = local_start.date()
        midnight = datetime(day.year, day.month, day.day)
        for opens, closes in self.windows_on(day):
            if from_local(
                midnight + timedelta(minutes=opens), tz
            ) <= slot.starts_at and slot.ends_at <= from_local(
                midnight + timedelta(minutes=closes), tz
            ):
                return True
        # Otherwise (a slot across windows that join, or not covered): clipped and merged, the
        # open parts of ``slot`` are the slot itself iff it is covered.
        return self.open_intervals(slot, tz) == [slot]


@dataclass(frozen=True)
class RoomRules:
    capacity: int
    min_lead: timedelta = timedelta(0)
    max_advance: timedelta | None = None
    min_duration: timedelta | None = None
    max_duration: timedelta | None = None
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    opening: OpeningHours | None = None


def _overlapping(queries: Sequence[Slot], targets: Sequence[Slot]) -> list[list[int]]:
    """For each query, the indices of the targets it overlaps, in order of target start.

    A sweep over queries sorted by start: targets starting before the query's start wait in a
    heap keyed by their end, so a long target (a month-long block) is still found without
    comparing every pair. Cost O((n + m) log m + number of hits).
    """
    order = sorted(range(len(targets)), key=lambda i: (targets[i].starts_at, i))
    starts = [targets[i].starts_at for i in order]
    result: list[list[int]] = [[] for _ in queries]
    active: list[tuple[datetime, int]] = []  # (ends_at, position in order)
    next_pos = 0
    for qi in sorted(range(len(queries)), key=lambda i: queries[i].starts_at):
        query = queries[qi]
        while next_pos < len(order) and starts[next_pos] < query.starts_at:
            heapq.heappush(active, (targets[order[next_pos]].ends_at, next_pos))
            next_pos += 1
        while active and active[0][0] <= query.starts_at:
            heapq.heappop(active)
        # Everything left in the heap started before the query and ends inside or after it.
        positions = sorted(pos for _, pos in active)
        positions.extend(range(next_pos, bisect_left(starts, query.ends_at, lo=next_pos)))
        result[qi] = [order[pos] for pos in positions]
    return result


def find_overlaps(candidates: Sequence[Slot], busy: Sequence[Busy]) -> list[list[Busy]]:
    """For each candidate (as given, no buffers added), the busy entries it overlaps."""
    hits = _overlapping(candidates, [b.slot for b in busy])
    return [[busy[i] for i in row] for row in hits]


def describe(slot: Slot, tz: ZoneInfo) -> str:
    """A slot in local time for messages, e.g. ``Tue 2026-11-03 18:00-20:00``."""
    start, end = to_local(slot.starts_at, tz), to_local(slot.ends_at, tz)
    if start.date() == end.date():
        return f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M}"
    return f"{start:%a %Y-%m-%d %H:%M} - {end:%a %Y-%m-%d %H:%M}"


def _time_problems(candidate: Slot, rules: RoomRules, tz: ZoneInfo, now: datetime) -> list[Problem]:
    problems: list[Problem] = []
    when = describe(candidate, tz)
    if candidate.starts_at < now:
        problems.append(Problem(Reason.IN_PAST, f"{when} has already started"))
    elif candidate.starts_at < now + rules.min_lead:
        problems.append(
            Problem(
                Reason.TOO_SHORT_NOTICE,
                f"{when} starts too soon: bookings need {rules.min_lead} notice",
            )
        )
    if rules.max_advance is not None and candidate.starts_at > now + rules.max_advance:
        problems.append(
            Problem(
                Reason.TOO_FAR_AHEAD,
                f"{when} is too far ahead: at most {rules.max_advance} in advance",
            )
        )
    return problems


def check(
    candidates: Sequence[Slot],
    *,
    rules: RoomRules,
    tz: ZoneInfo,
    now: datetime,
    busy: Sequence[Busy] = (),
    closures: Sequence[Closure] = (),
    attendees: int | None = None,
    check_time_rules: bool = True,
) -> list[tuple[Problem, ...]]:
    """Every reason each candidate cannot be booked; an empty tuple means bookable.

    Problems come in a fixed order: time rules (IN_PAST / TOO_SHORT_NOTICE, TOO_FAR_AHEAD),
    duration, capacity, opening hours, closures, then one TAKEN per colliding busy entry in
    order of its start (ties in input order). Buffers widen the candidate only for the TAKEN
    check, because they keep bookings apart from each other; closures and opening hours
    constrain the booked time itself, so they see the bare candidate.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("check needs an aware 'now'")
    padded = [c.padded(rules.buffer_before, rules.buffer_after) for c in candidates]
    taken_hits = _overlapping(padded, [b.slot for b in busy])
    closed_hits = _overlapping(candidates, [c.slot for c in closures])
    result: list[tuple[Problem, ...]] = []
    for index, candidate in enumerate(candidates):
        when = describe(candidate, tz)
        problems = _time_problems(candidate, rules, tz, now) if check_time_rules else []
        if rules.min_duration is not None and candidate.duration < rules.min_duration:
            problems.append(
                Problem(Reason.TOO_SHORT, f"{when} is shorter than {rules.min_duration}")
            )
        if rules.max_duration is not None and candidate.duration > rules.max_duration:
            problems.append(Problem(Reason.TOO_LONG, f"{when} is longer than {rules.max_duration}"))
        if attendees is not None and attendees > rules.capacity:
            problems.append(
                Problem(
                    Reason.OVER_CAPACITY,
                    f"{attendees} people do not fit; the room holds {rules.capacity}",
                )
            )
        if rules.opening is not None and not rules.opening.covers(candidate, tz):
            problems.append(
                Problem(Reason.OUTSIDE_OPENING_HOURS, f"{when} is outside the opening hours")
            )
        for i in closed_hits[index]:
            closure = closures[i]
            problems.append(
                Problem(
                    Reason.CLOSED,
                    f"{when}: the room is closed ({closure.reason}, {describe(closure.slot, tz)})",
                    other=closure.slot,
                    label=closure.reason,
                )
            )
        for i in taken_hits[index]:
            entry = busy[i]
            what = entry.label or "another booking"
            problems.append(
                Problem(
                    Reason.TAKEN,
                    f"{when} collides with {what} ({describe(entry.slot, tz)}, buffers included)",
                    other=entry.slot,
                    label=entry.label,
                )
            )
        result.append(tuple(problems))
    return result
