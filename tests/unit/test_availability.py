"""Free intervals against a brute force over a minute grid, and their agreement with check()."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain import (
    Busy,
    Closure,
    OpeningHours,
    Reason,
    RoomAvailability,
    RoomRules,
    Slot,
    WeeklyWindow,
    all_free,
    check,
    free_intervals,
    free_rooms,
    is_free,
    to_local,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 1 June 2026, 08:00 local: no DST change nearby, so wall minutes map 1:1.
T0 = datetime(2026, 6, 1, 6, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HORIZON = 180
PLACE_RULES = (Reason.TAKEN, Reason.CLOSED, Reason.OUTSIDE_OPENING_HOURS)


def at(minute: int) -> datetime:
    return T0 + minute * MINUTE


@st.composite
def slots(draw: st.DrawFn, longest: int = 40) -> Slot:
    a = draw(st.integers(-20, HORIZON))
    return Slot(at(a), at(a + draw(st.integers(1, longest))))


@st.composite
def opening(draw: st.DrawFn) -> OpeningHours | None:
    if draw(st.booleans()):
        return None
    windows = []
    for _ in range(draw(st.integers(0, 4))):
        # Local 08:00 is minute 480 of Monday; stay around the grid.
        a = draw(st.integers(470, 480 + HORIZON))
        windows.append(WeeklyWindow(0, a, draw(st.integers(a + 1, 480 + HORIZON + 10))))
    return OpeningHours(tuple(windows))


@st.composite
def rooms(draw: st.DrawFn) -> RoomAvailability:
    rules = RoomRules(
        capacity=10,
        buffer_before=draw(st.integers(0, 15)) * MINUTE,
        buffer_after=draw(st.integers(0, 15)) * MINUTE,
        opening=draw(opening()),
    )
    busy = draw(st.lists(st.builds(Busy, slots()), max_size=6))
    closures = draw(st.lists(st.builds(Closure, slots(), st.just("Ferien")), max_size=2))
    return RoomAvailability(rules, tuple(busy), tuple(closures))


windows = st.builds(
    lambda a, n: Slot(at(a), at(a + n)), st.integers(0, HORIZON // 2), st.integers(1, HORIZON)
)


def minute_is_free(m: datetime, room: RoomAvailability) -> bool:
    """Decided from scratch for the one-minute booking [m, m + 1 min)."""
    rules = room.rules
    start, end = m - rules.buffer_before, m + MINUTE + rules.buffer_after
    if any(b.slot.starts_at < end and start < b.slot.ends_at for b in room.busy):
        return False
    if any(c.slot.starts_at <= m < c.slot.ends_at for c in room.closures):
        return False
    if rules.opening is None:
        return True
    wall = to_local(m, BERLIN)
    minute_of_day = wall.hour * 60 + wall.minute
    return any(
        w.weekday == wall.weekday() and w.opens <= minute_of_day < w.closes
        for w in rules.opening.windows
    )


def free_of(room: RoomAvailability, window: Slot) -> list[Slot]:
    return free_intervals(
        window, tz=BERLIN, rules=room.rules, busy=room.busy, closures=room.closures
    )


@settings(max_examples=100, deadline=None, database=None)
@given(rooms(), windows)
def test_free_intervals_are_the_free_minutes(room: RoomAvailability, window: Slot) -> None:
    intervals = free_of(room, window)
    for left, right in pairwise(intervals):
        assert left.ends_at < right.starts_at  # maximal: touching pieces would be one
    m = window.starts_at
    while m < window.ends_at:
        inside = any(i.starts_at <= m < i.ends_at for i in intervals)
        assert inside == minute_is_free(m, room), m
        m += MINUTE
    assert all(window.contains(i) for i in intervals)


@settings(max_examples=100, deadline=None, database=None)
@given(rooms(), windows, st.lists(slots(longest=90), min_size=1, max_size=10))
def test_a_booking_is_feasible_iff_it_lies_in_one_free_interval(
    room: RoomAvailability, window: Slot, bookings: list[Slot]
) -> None:
    intervals = free_of(room, window)
    bookings = [b for b in bookings if window.contains(b)] or [window]
    results = check(
        bookings,
        rules=room.rules,
        tz=BERLIN,
        now=T0,
        busy=room.busy,
        closures=room.closures,
        check_time_rules=False,
    )
    for booking, problems in zip(bookings, results, strict=True):
        feasible = not any(p.reason in PLACE_RULES for p in problems)
        assert feasible == any(i.contains(booking) for i in intervals)
        assert feasible == is_free(
            booking, tz=BERLIN, rules=room.rules, busy=room.busy, closures=room.closures
        )


@given(rooms(), st.lists(slots(longest=90), min_size=1, max_size=8))
def test_all_free_agrees_with_is_free_date_by_date(room: RoomAvailability, wanted) -> None:
    expected = all(
        is_free(s, tz=BERLIN, rules=room.rules, busy=room.busy, closures=room.closures)
        for s in wanted
    )
    assert (
        all_free(wanted, tz=BERLIN, rules=room.rules, busy=room.busy, closures=room.closures)
        is expected
    )


def test_buffers_shrink_the_gap_between_bookings() -> None:
    rules = RoomRules(capacity=5, buffer_before=15 * MINUTE, buffer_after=10 * MINUTE)
    busy = [Busy(Slot(at(0), at(60))), Busy(Slot(at(120), at(180)))]
    window = Slot(at(0), at(180))
    # Ours must start 15 min after theirs ends and end 10 min before the next one starts.
    assert free_intervals(window, tz=BERLIN, rules=rules, busy=busy) == [Slot(at(75), at(110))]


def test_free_rooms_lists_the_free_keys_in_order() -> None:
    wanted = Slot(at(60), at(120))
    open_morning = OpeningHours((WeeklyWindow(0, 8 * 60, 12 * 60),))
    rooms_by_name = {
        "Aula": RoomAvailability(RoomRules(capacity=200)),
        "Musikraum": RoomAvailability(RoomRules(capacity=30), busy=(Busy(Slot(at(90), at(100))),)),
        "Bibliothek": RoomAvailability(RoomRules(capacity=20, opening=open_morning)),
        "Turnhalle": RoomAvailability(
            RoomRules(capacity=60), closures=(Closure(Slot(at(0), at(61)), "Umbau"),)
        ),
        "Werkraum": RoomAvailability(
            RoomRules(capacity=15, buffer_after=30 * MINUTE), busy=(Busy(Slot(at(140), at(150))),)
        ),
    }
    assert free_rooms(wanted, rooms_by_name, tz=BERLIN) == ["Aula", "Bibliothek"]
    assert free_rooms(wanted, {}, tz=BERLIN) == []
