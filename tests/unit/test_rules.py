"""Conflict detection against pairwise loops, time rules, and opening hours across DST."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain import (
    Busy,
    Closure,
    OpeningHours,
    Problem,
    Reason,
    RoomRules,
    Slot,
    WeeklyWindow,
    check,
    find_overlaps,
    from_local,
    to_local,
)

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 6, 1, tzinfo=UTC)
PROPERTY = settings(max_examples=150, deadline=None, database=None)
MINUTE = timedelta(minutes=1)


def at(minute: int) -> datetime:
    return T0 + minute * MINUTE


@st.composite
def slots(draw: st.DrawFn, horizon: int = 200, longest: int = 60) -> Slot:
    a = draw(st.integers(0, horizon))
    return Slot(at(a), at(a + draw(st.integers(1, longest))))


busy_lists = st.lists(
    st.builds(
        Busy,
        st.one_of(slots(), slots(longest=300)),
        ref=st.integers(),
        label=st.sampled_from([None, "Chor", "Schach"]),
    ),
    max_size=12,
)
closure_lists = st.lists(
    st.builds(Closure, slots(longest=120), st.sampled_from(["Ferien", "Umbau"])), max_size=3
)
buffers = st.integers(0, 30).map(lambda n: n * MINUTE)


def of(problems: tuple[Problem, ...], reason: Reason) -> list[Problem]:
    return [p for p in problems if p.reason is reason]


@PROPERTY
@given(st.lists(slots(), max_size=8), busy_lists, closure_lists, buffers, buffers)
def test_taken_and_closed_match_pairwise_loops(
    candidates: list[Slot],
    busy: list[Busy],
    closures: list[Closure],
    before: timedelta,
    after: timedelta,
) -> None:
    rules = RoomRules(capacity=10, buffer_before=before, buffer_after=after)
    result = check(candidates, rules=rules, tz=BERLIN, now=at(0), busy=busy, closures=closures)
    assert len(result) == len(candidates)
    for candidate, problems in zip(candidates, result, strict=True):
        padded = candidate.padded(before, after)
        expected_taken = sorted((b.slot, str(b.label)) for b in busy if padded.overlaps(b.slot))
        taken = of(problems, Reason.TAKEN)
        assert sorted((p.other, str(p.label)) for p in taken) == expected_taken
        starts = [p.other.starts_at for p in taken if p.other is not None]
        assert starts == sorted(starts)
        expected_closed = sorted((c.slot, c.reason) for c in closures if candidate.overlaps(c.slot))
        closed = sorted((p.other, p.label) for p in of(problems, Reason.CLOSED))
        assert closed == expected_closed
        assert {p.reason for p in problems} <= {Reason.TAKEN, Reason.CLOSED}


@PROPERTY
@given(st.lists(slots(), max_size=8), busy_lists)
def test_find_overlaps_matches_pairwise_loop(candidates: list[Slot], busy: list[Busy]) -> None:
    found = find_overlaps(candidates, busy)
    for candidate, hits in zip(candidates, found, strict=True):
        expected = [b for b in busy if candidate.overlaps(b.slot)]
        assert sorted(map(id, hits)) == sorted(map(id, expected))


def test_a_year_of_weekly_dates_against_thousands_of_busy_slots() -> None:
    candidates = [Slot(at(7 * 1440 * k), at(7 * 1440 * k + 120)) for k in range(52)]
    busy = [Busy(Slot(at(60 * k + 30), at(60 * k + 90)), ref=k) for k in range(0, 52 * 168, 2)]
    # One long block (renovation) must be found even though it starts long before most dates.
    block = Busy(Slot(at(-1440), at(200 * 1440)), label="Umbau")
    busy.append(block)
    result = check(candidates, rules=RoomRules(capacity=1), tz=BERLIN, now=at(0), busy=busy)
    taken = [[p.other for p in of(problems, Reason.TAKEN)] for problems in result]
    assert taken[0] == [block.slot, Slot(at(30), at(90))]
    assert all(len(hits) == 2 for hits in taken[:29])
    assert all(len(hits) == 1 for hits in taken[29:])


def test_touching_bookings_are_fine_until_buffers_make_them_collide() -> None:
    busy = [Busy(Slot(at(60), at(120)), ref=7, label="Chor")]
    candidate = [Slot(at(120), at(180))]
    assert check(candidate, rules=RoomRules(capacity=5), tz=BERLIN, now=at(0), busy=busy) == [()]
    rules = RoomRules(capacity=5, buffer_before=timedelta(minutes=15))
    ((problem,),) = check(candidate, rules=rules, tz=BERLIN, now=at(0), busy=busy)
    assert (problem.reason, problem.other, problem.label) == (Reason.TAKEN, busy[0].slot, "Chor")
    assert "Chor" in problem.message


NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def one(start: datetime, length: timedelta = HOUR) -> Slot:
    return Slot(start, start + length)


@pytest.mark.parametrize(
    ("slot", "rules", "attendees", "reasons"),
    [
        (one(NOW + HOUR), RoomRules(capacity=5), 5, []),
        (one(NOW - HOUR), RoomRules(capacity=5), None, [Reason.IN_PAST]),
        (one(NOW), RoomRules(capacity=5), None, []),
        (one(NOW), RoomRules(capacity=5, min_lead=HOUR), None, [Reason.TOO_SHORT_NOTICE]),
        (one(NOW + HOUR), RoomRules(capacity=5, min_lead=HOUR), None, []),
        (one(NOW - HOUR), RoomRules(capacity=5, min_lead=HOUR), None, [Reason.IN_PAST]),
        (one(NOW + 48 * HOUR), RoomRules(capacity=5, max_advance=48 * HOUR), None, []),
        (
            one(NOW + 49 * HOUR),
            RoomRules(capacity=5, max_advance=48 * HOUR),
            None,
            [Reason.TOO_FAR_AHEAD],
        ),
        (one(NOW + HOUR), RoomRules(capacity=5, min_duration=2 * HOUR), None, [Reason.TOO_SHORT]),
        (
            one(NOW + HOUR, 3 * HOUR),
            RoomRules(capacity=5, max_duration=2 * HOUR),
            1,
            [Reason.TOO_LONG],
        ),
        (
            one(NOW + HOUR, 2 * HOUR),
            RoomRules(capacity=5, min_duration=2 * HOUR, max_duration=2 * HOUR),
            1,
            [],
        ),
        (one(NOW + HOUR), RoomRules(capacity=5), 6, [Reason.OVER_CAPACITY]),
        (
            one(NOW - HOUR, 5 * HOUR),
            RoomRules(capacity=5, max_duration=2 * HOUR),
            9,
            [Reason.IN_PAST, Reason.TOO_LONG, Reason.OVER_CAPACITY],
        ),
    ],
)
def test_time_duration_and_capacity_rules(
    slot: Slot, rules: RoomRules, attendees: int | None, reasons: list[Reason]
) -> None:
    (problems,) = check([slot], rules=rules, tz=BERLIN, now=NOW, attendees=attendees)
    assert [p.reason for p in problems] == reasons
    assert all(p.message for p in problems)


def test_time_rules_can_be_switched_off_for_managers() -> None:
    rules = RoomRules(capacity=5, min_lead=HOUR, max_advance=HOUR, max_duration=HOUR)
    slots = [one(NOW - HOUR, 2 * HOUR), one(NOW), one(NOW + 9 * HOUR)]
    result = check(slots, rules=rules, tz=BERLIN, now=NOW, check_time_rules=False)
    assert [[p.reason for p in ps] for ps in result] == [[Reason.TOO_LONG], [], []]


def test_check_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        check([], rules=RoomRules(capacity=1), tz=BERLIN, now=datetime(2026, 1, 1))


# --- opening hours -----------------------------------------------------------------------------

FRI_EVENING = OpeningHours((WeeklyWindow(4, 16 * 60, 1440), WeeklyWindow(5, 0, 120)))
WORKDAYS = OpeningHours(tuple(WeeklyWindow(d, 8 * 60, 22 * 60) for d in range(7)))


def local(*args: int) -> datetime:
    return from_local(datetime(*args), BERLIN)  # type: ignore[misc]


def test_windows_across_midnight_join_up() -> None:
    week = Slot(local(2026, 11, 2), local(2026, 11, 9))
    assert FRI_EVENING.open_intervals(week, BERLIN) == [
        Slot(local(2026, 11, 6, 16), local(2026, 11, 7, 2))
    ]
    assert FRI_EVENING.covers(Slot(local(2026, 11, 6, 20), local(2026, 11, 7, 1)), BERLIN)
    assert not FRI_EVENING.covers(Slot(local(2026, 11, 6, 20), local(2026, 11, 7, 3)), BERLIN)


def test_open_intervals_are_clipped_to_the_window() -> None:
    window = Slot(local(2026, 11, 6, 18), local(2026, 11, 6, 19))
    assert FRI_EVENING.open_intervals(window, BERLIN) == [window]
    assert OpeningHours(()).open_intervals(window, BERLIN) == []


@pytest.mark.parametrize(
    ("day", "utc_open", "utc_close", "length"),
    [
        (date(2026, 3, 28), 7, 21, 24),  # Saturday before: CET
        (date(2026, 3, 29), 6, 20, 23),  # the change happens at 02:00, before opening
        (date(2026, 10, 25), 7, 21, 25),
        (date(2027, 3, 28), 6, 20, 23),
        (date(2027, 10, 31), 7, 21, 25),
    ],
)
def test_opening_hours_on_dst_days(day: date, utc_open: int, utc_close: int, length: int) -> None:
    midnight = datetime(day.year, day.month, day.day)
    whole_day = Slot(from_local(midnight, BERLIN), from_local(midnight + timedelta(days=1), BERLIN))
    ((opened,),) = [WORKDAYS.open_intervals(whole_day, BERLIN)]
    assert (opened.starts_at.hour, opened.ends_at.hour) == (utc_open, utc_close)
    all_day = OpeningHours((WeeklyWindow(day.weekday(), 0, 1440),))
    (full,) = all_day.open_intervals(whole_day, BERLIN)
    assert full.duration == timedelta(hours=length)


def test_a_window_boundary_in_the_spring_gap_follows_from_local() -> None:
    night = OpeningHours((WeeklyWindow(6, 150, 240),))  # Sunday 02:30-04:00
    day = Slot(local(2026, 3, 29), local(2026, 3, 30))
    # 02:30 does not exist that night; like a booking it is read as 03:30 CEST.
    assert night.open_intervals(day, BERLIN) == [
        Slot(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    ]
    gap_only = OpeningHours((WeeklyWindow(6, 120, 180),))
    assert gap_only.open_intervals(day, BERLIN) == []


@pytest.mark.parametrize(
    ("weekday", "opens", "closes"), [(7, 0, 60), (0, -1, 60), (0, 60, 60), (0, 0, 1441)]
)
def test_weekly_window_validation(weekday: int, opens: int, closes: int) -> None:
    with pytest.raises(ValueError):
        WeeklyWindow(weekday, opens, closes)


# Boundaries on half hours, but not 02:30: a boundary strictly inside the hour that is skipped
# or repeated is the one place where from_local (our policy) and "what the wall clock shows"
# disagree, and it is pinned by the explicit test above instead.
boundaries = st.integers(0, 48).map(lambda n: n * 30).filter(lambda m: m != 150)


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    windows = []
    for _ in range(draw(st.integers(0, 6))):
        a, b = sorted(draw(st.lists(boundaries, min_size=2, max_size=2, unique=True)))
        windows.append(WeeklyWindow(draw(st.integers(0, 6)), a, b))
    return OpeningHours(tuple(windows))


dst_weeks = st.sampled_from(
    [date(2026, 3, 26), date(2026, 10, 22), date(2027, 3, 25), date(2027, 10, 28), date(2026, 7, 1)]
)


@settings(max_examples=60, deadline=None, database=None)
@given(opening_hours(), dst_weeks, st.integers(0, 3 * 96), st.integers(1, 2 * 96))
def test_open_intervals_match_a_minute_walk(
    hours: OpeningHours, near: date, offset: int, length: int
) -> None:
    start = from_local(datetime(near.year, near.month, near.day), BERLIN)
    start += offset * 15 * MINUTE
    window = Slot(start, start + length * 15 * MINUTE)
    intervals = hours.open_intervals(window, BERLIN)
    open_minutes = set()
    for slot in intervals:
        assert window.contains(slot)
        m = slot.starts_at
        while m < slot.ends_at:
            open_minutes.add(m)
            m += MINUTE
    for left, right in pairwise(intervals):
        assert left.ends_at < right.starts_at
    m = window.starts_at
    while m < window.ends_at:
        wall = to_local(m, BERLIN)
        minute_of_day = wall.hour * 60 + wall.minute
        expected = any(
            w.weekday == wall.weekday() and w.opens <= minute_of_day < w.closes
            for w in hours.windows
        )
        assert (m in open_minutes) == expected, wall
        m += MINUTE


@settings(max_examples=60, deadline=None, database=None)
@given(opening_hours(), dst_weeks, st.integers(0, 3 * 96), st.integers(1, 96))
def test_covers_means_every_minute_is_open(
    hours: OpeningHours, near: date, offset: int, length: int
) -> None:
    start = from_local(datetime(near.year, near.month, near.day), BERLIN) + offset * 15 * MINUTE
    slot = Slot(start, start + length * 15 * MINUTE)
    big = Slot(slot.starts_at - timedelta(days=2), slot.ends_at + timedelta(days=2))
    inside_one = any(i.contains(slot) for i in hours.open_intervals(big, BERLIN))
    assert hours.covers(slot, BERLIN) == inside_one
    (problems,) = check(
        [slot], rules=RoomRules(capacity=1, opening=hours), tz=BERLIN, now=slot.starts_at
    )
    assert (Reason.OUTSIDE_OPENING_HOURS in [p.reason for p in problems]) != inside_one
