"""Slot arithmetic against sets of minutes, and the DST policy of from_local."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain import Slot, from_local, merge, subtract, to_local

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROPERTY = settings(max_examples=150, deadline=None, database=None)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@st.composite
def slots(draw: st.DrawFn, horizon: int = 60) -> Slot:
    a = draw(st.integers(0, horizon - 1))
    b = draw(st.integers(a + 1, horizon))
    return Slot(at(a), at(b))


def minutes(slot: Slot) -> set[int]:
    start = int((slot.starts_at - T0) / timedelta(minutes=1))
    end = int((slot.ends_at - T0) / timedelta(minutes=1))
    return set(range(start, end))


def union(items: list[Slot]) -> set[int]:
    return set().union(*(minutes(s) for s in items))


def assert_canonical(items: list[Slot]) -> None:
    """Sorted, and neither overlapping nor touching (else they would have been merged)."""
    for left, right in pairwise(items):
        assert left.ends_at < right.starts_at


@PROPERTY
@given(slots(), slots())
def test_overlaps_and_contains_match_minute_sets(a: Slot, b: Slot) -> None:
    assert a.overlaps(b) == bool(minutes(a) & minutes(b)) == b.overlaps(a)
    assert a.contains(b) == (minutes(b) <= minutes(a))


@PROPERTY
@given(st.lists(slots(), max_size=8))
def test_merge_is_the_union(items: list[Slot]) -> None:
    merged = merge(items)
    assert union(merged) == union(items)
    assert_canonical(merged)


@PROPERTY
@given(st.lists(slots(), max_size=5), st.lists(slots(), max_size=6))
def test_subtract_is_the_set_difference(base: list[Slot], minus: list[Slot]) -> None:
    rest = subtract(base, minus)
    assert union(rest) == union(base) - union(minus)
    assert_canonical(rest)


def test_touching_slots_do_not_overlap_but_merge() -> None:
    a, b = Slot(at(0), at(10)), Slot(at(10), at(20))
    assert not a.overlaps(b)
    assert merge([b, a]) == [Slot(at(0), at(20))]


def test_padded_and_duration() -> None:
    slot = Slot(at(60), at(120))
    assert slot.duration == timedelta(hours=1)
    assert slot.padded(timedelta(minutes=15), timedelta(minutes=30)) == Slot(at(45), at(150))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 11)),
        (at(10), at(10)),
        (at(10), at(5)),
    ],
)
def test_slot_rejects_naive_or_empty(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError):
        Slot(start, end)


def test_slots_order_by_start() -> None:
    assert sorted([Slot(at(5), at(6)), Slot(at(1), at(9))])[0] == Slot(at(1), at(9))


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # Spring gaps: the skipped wall time is read with the offset before the gap (+01:00).
        (datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (datetime(2027, 3, 28, 2, 30), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        (datetime(2026, 3, 29, 1, 59), datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),
        (datetime(2026, 3, 29, 3, 0), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # Autumn overlaps: the repeated wall time means its first occurrence (CEST, +02:00).
        (datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (datetime(2027, 10, 31, 2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 59), datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),
    ],
)
def test_from_local_dst_policy_in_berlin(local: datetime, utc: datetime) -> None:
    result = from_local(local, BERLIN)
    assert result == utc
    assert result.utcoffset() == timedelta(0)


def test_gap_time_shows_an_hour_later_on_the_wall_clock() -> None:
    shown = to_local(from_local(datetime(2026, 3, 29, 2, 30), BERLIN), BERLIN)
    assert (shown.hour, shown.minute, shown.utcoffset()) == (3, 30, timedelta(hours=2))


def test_from_local_rejects_aware_and_to_local_rejects_naive() -> None:
    with pytest.raises(ValueError):
        from_local(at(0), BERLIN)
    with pytest.raises(ValueError):
        to_local(datetime(2026, 1, 1), BERLIN)


@PROPERTY
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)))
def test_from_local_round_trips_except_in_gaps(naive: datetime) -> None:
    instant = from_local(naive, BERLIN)
    back = to_local(instant, BERLIN)
    if back.replace(tzinfo=None) != naive:
        # Only a wall time that does not exist may come back different: exactly 1 h later.
        assert back.replace(tzinfo=None) - naive == timedelta(hours=1)
        assert naive.month == 3 and naive.hour == 2
    else:
        assert back.fold == 0
