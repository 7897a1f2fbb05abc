"""Dated opening exceptions: a date's exception replaces its weekly windows, and a room's own
exception overrides its whole's and its site's for that date (checked against brute force)."""

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain import (
    ALWAYS_OPEN_WEEK,
    DatedHours,
    OpeningHours,
    Reason,
    RoomRules,
    RoomTree,
    Slot,
    WeeklyWindow,
    check,
    from_local,
    to_local,
)

BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = timedelta(minutes=1)
PROPERTY = settings(max_examples=80, deadline=None, database=None)

# Friday 16:00 until Saturday 02:00, and Saturday 10:00-14:00.
FRI_NIGHT = (WeeklyWindow(4, 16 * 60, 1440), WeeklyWindow(5, 0, 120), WeeklyWindow(5, 600, 840))
FRIDAY, SATURDAY = date(2026, 11, 6), date(2026, 11, 7)


def local(*args: int) -> datetime:
    return from_local(datetime(*args), BERLIN)  # type: ignore[misc]


def test_an_exception_replaces_the_weekly_windows_of_its_date_only() -> None:
    week = Slot(local(2026, 11, 2), local(2026, 11, 9))
    plain = OpeningHours(FRI_NIGHT)
    short_friday = OpeningHours(FRI_NIGHT, (DatedHours(FRIDAY, 9 * 60, 12 * 60),))
    assert plain.open_intervals(week, BERLIN) == [
        Slot(local(2026, 11, 6, 16), local(2026, 11, 7, 2)),
        Slot(local(2026, 11, 7, 10), local(2026, 11, 7, 14)),
    ]
    # Friday morning instead of Friday evening; the early hours of Saturday stay Saturday's.
    assert short_friday.open_intervals(week, BERLIN) == [
        Slot(local(2026, 11, 6, 9), local(2026, 11, 6, 12)),
        Slot(local(2026, 11, 7, 0), local(2026, 11, 7, 2)),
        Slot(local(2026, 11, 7, 10), local(2026, 11, 7, 14)),
    ]
    assert short_friday.covers(Slot(local(2026, 11, 6, 10), local(2026, 11, 6, 11)), BERLIN)
    assert not short_friday.covers(Slot(local(2026, 11, 6, 18), local(2026, 11, 6, 20)), BERLIN)
    # The next Friday has its weekly hours again.
    assert short_friday.covers(Slot(local(2026, 11, 13, 18), local(2026, 11, 13, 20)), BERLIN)


def test_a_slot_across_midnight_needs_both_dates_open() -> None:
    across = Slot(local(2026, 11, 6, 22), local(2026, 11, 7, 1))
    assert OpeningHours(FRI_NIGHT).covers(across, BERLIN)
    saturday_closed = OpeningHours(FRI_NIGHT, (DatedHours(SATURDAY),))
    assert not saturday_closed.covers(across, BERLIN)
    assert saturday_closed.covers(Slot(local(2026, 11, 6, 22), local(2026, 11, 7)), BERLIN)
    # An exception open until midnight and the weekly early hours of the next date join up.
    late_friday = OpeningHours(FRI_NIGHT, (DatedHours(FRIDAY, 20 * 60, 1440),))
    assert late_friday.covers(across, BERLIN)
    assert not late_friday.covers(Slot(local(2026, 11, 6, 19), local(2026, 11, 7, 1)), BERLIN)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 11, 1), 24)],
)
def test_an_exception_open_all_day_on_dst_days(day: date, hours: int) -> None:
    weekly = OpeningHours(tuple(WeeklyWindow(d, 8 * 60, 20 * 60) for d in range(7)))
    all_day = OpeningHours(weekly.windows, (DatedHours(day, 0, 1440),))
    midnight = datetime(day.year, day.month, day.day)
    whole = Slot(from_local(midnight, BERLIN), from_local(midnight + timedelta(days=1), BERLIN))
    assert all_day.open_intervals(whole, BERLIN) == [whole]
    assert whole.duration == timedelta(hours=hours)
    assert all_day.covers(whole, BERLIN)
    assert not weekly.covers(whole, BERLIN)


def test_a_closed_day_fails_the_check_with_the_opening_hours_reason() -> None:
    christmas_eve = date(2026, 12, 24)
    hours = OpeningHours(
        tuple(WeeklyWindow(d, 8 * 60, 22 * 60) for d in range(7)),
        (DatedHours(christmas_eve, 9 * 60, 12 * 60),),
    )
    rules = RoomRules(capacity=10, opening=hours)
    evening = Slot(local(2026, 12, 24, 18), local(2026, 12, 24, 20))
    morning = Slot(local(2026, 12, 24, 9), local(2026, 12, 24, 11))
    now = local(2026, 12, 1)
    late, early = check([evening, morning], rules=rules, tz=BERLIN, now=now)
    assert [p.reason for p in late] == [Reason.OUTSIDE_OPENING_HOURS]
    assert early == ()


def test_without_weekly_windows_only_the_exception_dates_are_limited() -> None:
    hours = OpeningHours(ALWAYS_OPEN_WEEK, (DatedHours(FRIDAY),))
    assert hours.covers(Slot(local(2026, 11, 5, 3), local(2026, 11, 5, 23)), BERLIN)
    assert not hours.covers(Slot(local(2026, 11, 6, 3), local(2026, 11, 6, 4)), BERLIN)
    assert hours.covers(Slot(local(2026, 11, 4, 20), local(2026, 11, 5, 20)), BERLIN)


@pytest.mark.parametrize(
    ("opens", "closes"), [(60, None), (None, 60), (60, 60), (-1, 60), (0, 1441)]
)
def test_dated_hours_validation(opens, closes) -> None:
    with pytest.raises(ValueError):
        DatedHours(FRIDAY, opens, closes)


def test_two_exceptions_on_one_date_are_refused() -> None:
    with pytest.raises(ValueError):
        OpeningHours(FRI_NIGHT, (DatedHours(FRIDAY), DatedHours(FRIDAY, 60, 120)))


# --- against brute force -----------------------------------------------------------------------

# Half-hour boundaries but not 02:30 (see tests/unit/test_rules.py: inside the skipped or repeated
# hour, from_local and the wall clock disagree by design).
boundaries = st.integers(0, 48).map(lambda n: n * 30).filter(lambda m: m != 150)
dst_weeks = st.sampled_from(
    [date(2026, 3, 26), date(2026, 10, 22), date(2027, 3, 25), date(2027, 10, 28), date(2026, 7, 1)]
)


@st.composite
def windows(draw: st.DrawFn) -> tuple[WeeklyWindow, ...]:
    found = []
    for _ in range(draw(st.integers(0, 6))):
        a, b = sorted(draw(st.lists(boundaries, min_size=2, max_size=2, unique=True)))
        found.append(WeeklyWindow(draw(st.integers(0, 6)), a, b))
    return tuple(found)


@st.composite
def exceptions(draw: st.DrawFn, near: date) -> tuple[DatedHours, ...]:
    days = draw(st.lists(st.integers(-1, 6), max_size=4, unique=True))
    found = []
    for offset in days:
        day = near + timedelta(days=offset)
        if draw(st.booleans()):
            found.append(DatedHours(day))
        else:
            a, b = sorted(draw(st.lists(boundaries, min_size=2, max_size=2, unique=True)))
            found.append(DatedHours(day, a, b))
    return tuple(found)


@st.composite
def hours_near(draw: st.DrawFn) -> tuple[OpeningHours, date]:
    near = draw(dst_weeks)
    return OpeningHours(draw(windows()), draw(exceptions(near))), near


def open_by_wall_clock(hours: OpeningHours, instant: datetime) -> bool:
    """The oracle: what a caretaker reads off the notice board at this wall-clock minute."""
    wall = to_local(instant, BERLIN)
    minute = wall.hour * 60 + wall.minute
    by_date = {e.day: e for e in hours.exceptions}
    exception = by_date.get(wall.date())
    if exception is not None:
        return exception.opens is not None and exception.opens <= minute < exception.closes
    return any(w.weekday == wall.weekday() and w.opens <= minute < w.closes for w in hours.windows)


@PROPERTY
@given(hours_near(), st.integers(0, 3 * 96), st.integers(1, 2 * 96))
def test_open_intervals_match_a_minute_walk(found, offset: int, length: int) -> None:
    hours, near = found
    start = from_local(datetime(near.year, near.month, near.day), BERLIN) + offset * 15 * MINUTE
    window = Slot(start, start + length * 15 * MINUTE)
    intervals = hours.open_intervals(window, BERLIN)
    for left, right in pairwise(intervals):
        assert left.ends_at < right.starts_at
    m = window.starts_at
    while m < window.ends_at:
        inside = any(i.starts_at <= m < i.ends_at for i in intervals)
        assert inside == open_by_wall_clock(hours, m), to_local(m, BERLIN)
        m += MINUTE


@PROPERTY
@given(hours_near(), st.integers(0, 3 * 96), st.integers(1, 96))
def test_covers_means_every_minute_is_open(found, offset: int, length: int) -> None:
    hours, near = found
    start = from_local(datetime(near.year, near.month, near.day), BERLIN) + offset * 15 * MINUTE
    slot = Slot(start, start + length * 15 * MINUTE)
    every_minute = all(
        open_by_wall_clock(hours, slot.starts_at + i * MINUTE)
        for i in range(int(slot.duration / MINUTE))
    )
    assert hours.covers(slot, BERLIN) == every_minute
    (problems,) = check(
        [slot], rules=RoomRules(capacity=1, opening=hours), tz=BERLIN, now=slot.starts_at
    )
    assert (Reason.OUTSIDE_OPENING_HOURS in [p.reason for p in problems]) != every_minute


# --- whose exception counts ---------------------------------------------------------------------

SITE = 1
# Room 10 is a whole with parts 11 and 12; 12 has a part 13; 20 stands alone.
PARENTS = {10: None, 11: 10, 12: 10, 13: 12, 20: None}
DAYS = [date(2026, 12, 21) + timedelta(days=n) for n in range(7)]
OWNERS = [None, *PARENTS]


@st.composite
def site_hours(draw: st.DrawFn):
    weekly = {}
    dated = {}
    for owner in draw(st.lists(st.sampled_from(OWNERS), unique=True, max_size=3)):
        weekly[(SITE, owner)] = OpeningHours(draw(windows().filter(bool)))
    for owner in draw(st.lists(st.sampled_from(OWNERS), unique=True, max_size=4)):
        dated[(SITE, owner)] = draw(exceptions(DAYS[0]).filter(bool))
    return weekly, dated


def expected_windows(room: int, day: date, weekly, dated) -> tuple[tuple[int, int], ...]:
    """The rule, stated plainly: per date, the nearest owner with an exception decides; else
    the nearest owner with weekly windows; else open all day."""
    chain = [room]
    while PARENTS[chain[-1]] is not None:
        chain.append(PARENTS[chain[-1]])
    chain.append(None)
    for owner in chain:
        for exception in dated.get((SITE, owner), ()):
            if exception.day == day:
                return () if exception.closed else ((exception.opens, exception.closes),)
    for owner in chain:
        if (SITE, owner) in weekly:
            return tuple(
                sorted(
                    (w.opens, w.closes)
                    for w in weekly[(SITE, owner)].windows
                    if w.weekday == day.weekday()
                )
            )
    return ((0, 1440),)


@settings(max_examples=150, deadline=None, database=None)
@given(site_hours())
def test_the_nearest_exception_of_a_date_decides(found) -> None:
    weekly, dated = found
    tree = RoomTree(PARENTS, weekly, dated)
    by_key = {}
    for room in PARENTS:
        hours = tree.opening_hours(room, SITE)
        if hours is None:  # always open
            assert all(expected_windows(room, d, weekly, dated) == ((0, 1440),) for d in DAYS)
            continue
        for day in DAYS:
            assert hours.windows_on(day) == expected_windows(room, day, weekly, dated)
        key = tree.hours_key(room, SITE)
        assert by_key.setdefault(key, hours) is hours  # rooms with one key share one object


def test_a_room_with_its_own_week_follows_the_sites_exception() -> None:
    christmas_eve = date(2026, 12, 24)
    tree = RoomTree(
        {10: None, 20: None},
        {(SITE, None): OpeningHours(FRI_NIGHT), (SITE, 20): OpeningHours(ALWAYS_OPEN_WEEK)},
        {
            (SITE, None): (DatedHours(christmas_eve, 9 * 60, 12 * 60),),
            (SITE, 10): (DatedHours(christmas_eve),),
        },
    )
    assert tree.opening_hours(20, SITE).windows_on(christmas_eve) == ((540, 720),)
    assert tree.opening_hours(20, SITE).windows_on(date(2026, 12, 23)) == ((0, 1440),)
    assert tree.opening_hours(10, SITE).windows_on(christmas_eve) == ()
