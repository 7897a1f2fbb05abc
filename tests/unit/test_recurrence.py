"""Recurrence expansion against a naive day-by-day walk, DST behaviour, limits and RRULE text."""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain import (
    Closure,
    Expansion,
    Frequency,
    Limits,
    Recurrence,
    RecurrenceError,
    Skipped,
    Slot,
    expand,
    from_local,
    to_local,
)

BERLIN = ZoneInfo("Europe/Berlin")
PROPERTY = settings(max_examples=120, deadline=None, database=None)
SPAN = Limits().max_span


def local_times(expansion: Expansion) -> list[tuple[date, time, time]]:
    result = []
    for slot in expansion.slots:
        start, end = to_local(slot.starts_at, BERLIN), to_local(slot.ends_at, BERLIN)
        result.append((start.date(), start.time(), end.time()))
    return result


def utc_offsets(expansion: Expansion) -> list[timedelta | None]:
    return [to_local(s.starts_at, BERLIN).utcoffset() for s in expansion.slots]


# --- the oracle --------------------------------------------------------------------------------


def matches(rec: Recurrence, first: date, day: date) -> bool:
    """Whether ``day`` is an instance of ``rec`` started on ``first``, decided from scratch."""
    if day < first:
        return False
    if rec.freq is Frequency.DAILY:
        return (day - first).days % rec.interval == 0 and (
            not rec.byweekday or day.weekday() in rec.byweekday
        )
    if rec.freq is Frequency.WEEKLY:
        week = (day - timedelta(days=day.weekday())) - (first - timedelta(days=first.weekday()))
        weekdays = rec.byweekday or (first.weekday(),)
        return (week.days // 7) % rec.interval == 0 and day.weekday() in weekdays
    months = (day.year - first.year) * 12 + day.month - first.month
    if months % rec.interval:
        return False
    if rec.bysetpos is not None:
        (weekday,) = rec.byweekday
        last_day = calendar.monthrange(day.year, day.month)[1]
        if rec.bysetpos == -1:
            return day.weekday() == weekday and day.day + 7 > last_day
        return day.weekday() == weekday and (day.day - 1) // 7 + 1 == rec.bysetpos
    return day.day == (rec.bymonthday or first.day)


def oracle(
    start: datetime, end: datetime, rec: Recurrence, closures: list[Closure]
) -> set[Slot] | None:
    """The expected slots, or None when the series must be rejected."""
    first = start.date()
    stop = first + timedelta(days=SPAN.days)
    if rec.until is not None:
        if rec.until < first or rec.until - first > SPAN:
            return None
        stop = rec.until
    days = []
    day = first
    while day <= stop and (rec.count is None or len(days) < rec.count):
        if matches(rec, first, day):
            days.append(day)
        day += timedelta(days=1)
    if (rec.count is not None and len(days) < rec.count) or not days or len(days) > 500:
        return None
    expected = set()
    for day in days:
        if day in rec.exdates:
            continue
        local_start = datetime.combine(day, start.time())
        starts_at = from_local(local_start, BERLIN)
        ends_at = from_local(local_start + (end - start), BERLIN)
        if ends_at <= starts_at:
            ends_at = starts_at + (end - start)
        slot = Slot(starts_at, ends_at)
        if rec.skip_closures and any(c.slot.overlaps(slot) for c in closures):
            continue
        expected.add(slot)
    return expected


@st.composite
def series(draw: st.DrawFn) -> tuple[datetime, datetime, Recurrence, list[Closure]]:
    first = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    # Whole quarter hours, the gap and overlap hours included on purpose.
    start = datetime.combine(first, time()) + timedelta(minutes=15 * draw(st.integers(0, 95)))
    end = start + timedelta(minutes=15 * draw(st.integers(1, 40)))
    freq = draw(st.sampled_from(Frequency))
    kwargs: dict[str, object] = {"interval": draw(st.integers(1, 4))}
    weekdays = st.lists(st.integers(0, 6), max_size=3, unique=True).map(tuple)
    if freq is Frequency.WEEKLY:
        kwargs["byweekday"] = draw(weekdays)
    elif freq is Frequency.DAILY:
        kwargs["byweekday"] = draw(st.one_of(st.just(()), weekdays))
    else:
        kind = draw(st.sampled_from(["default", "monthday", "setpos"]))
        if kind == "monthday":
            kwargs["bymonthday"] = draw(st.integers(1, 31))
        elif kind == "setpos":
            kwargs["bysetpos"] = draw(st.sampled_from([1, 2, 3, 4, 5, -1]))
            kwargs["byweekday"] = (draw(st.integers(0, 6)),)
    if draw(st.booleans()):
        kwargs["count"] = draw(st.integers(1, 40))
    else:
        kwargs["until"] = first + timedelta(days=draw(st.integers(-3, 800)))
    kwargs["exdates"] = frozenset(
        draw(st.lists(st.dates(first, first + timedelta(days=120)), max_size=4))
    )
    kwargs["skip_closures"] = draw(st.booleans())
    closures = []
    for _ in range(draw(st.integers(0, 2))):
        begin = datetime.combine(draw(st.dates(first, first + timedelta(days=200))), time())
        closures.append(
            Closure(
                Slot(from_local(begin, BERLIN), from_local(begin + timedelta(days=7), BERLIN)),
                "Ferien",
            )
        )
    return start, end, Recurrence(freq, **kwargs), closures  # type: ignore[arg-type]


@PROPERTY
@given(series())
def test_expand_matches_a_day_by_day_walk(
    case: tuple[datetime, datetime, Recurrence, list[Closure]],
) -> None:
    start, end, rec, closures = case
    expected = oracle(start, end, rec, closures)
    if expected is None:
        with pytest.raises(RecurrenceError) as info:
            expand(start, end, BERLIN, rec, closures=closures)
        assert info.value.field in {"count", "until"}
        return
    result = expand(start, end, BERLIN, rec, closures=closures)
    assert set(result.slots) == expected
    assert list(result.slots) == sorted(result.slots)
    skipped_days = {s.day for s in result.skipped}
    shown_days = {to_local(s.starts_at, BERLIN).date() for s in result.slots}
    assert not skipped_days & shown_days
    assert all(s.reason == "excluded" for s in result.skipped if s.day in rec.exdates)
    assert all(s.closure is not None for s in result.skipped if s.reason == "closed")


@PROPERTY
@given(series())
def test_rrule_text_round_trips(case: tuple[datetime, datetime, Recurrence, list[Closure]]) -> None:
    _, _, rec, _ = case
    again = Recurrence.from_rrule(
        rec.to_rrule(), exdates=rec.exdates, skip_closures=rec.skip_closures
    )
    assert again == rec


@PROPERTY
@given(series())
def test_ical_rrule_gives_dateutil_the_same_dates(
    case: tuple[datetime, datetime, Recurrence, list[Closure]],
) -> None:
    """The iCal feed's RRULE, read by an independent consumer, yields the same starts."""
    start, end, rec, _ = case
    rec = Recurrence(
        rec.freq, rec.interval, rec.byweekday, rec.bymonthday, rec.bysetpos, rec.until, rec.count
    )
    try:
        ours = expand(start, end, BERLIN, rec)
    except RecurrenceError:
        return
    text = rec.ical_rrule(start, BERLIN)
    theirs = rrulestr(text, dtstart=start.replace(tzinfo=BERLIN))
    assert [s.starts_at for s in ours.slots] == [d.astimezone(UTC) for d in theirs]


# --- explicit cases ----------------------------------------------------------------------------


def test_no_recurrence_is_one_slot() -> None:
    result = expand(datetime(2026, 11, 3, 18), datetime(2026, 11, 3, 20), BERLIN)
    assert result.slots == (
        Slot(datetime(2026, 11, 3, 17, tzinfo=UTC), datetime(2026, 11, 3, 19, tzinfo=UTC)),
    )
    assert result.skipped == ()


@pytest.mark.parametrize(
    ("first", "until", "before", "after"),
    [
        (date(2026, 3, 17), date(2026, 4, 7), timedelta(hours=1), timedelta(hours=2)),
        (date(2026, 10, 13), date(2026, 11, 3), timedelta(hours=2), timedelta(hours=1)),
        (date(2027, 3, 16), date(2027, 4, 6), timedelta(hours=1), timedelta(hours=2)),
        (date(2027, 10, 19), date(2027, 11, 9), timedelta(hours=2), timedelta(hours=1)),
    ],
)
def test_weekly_evening_keeps_wall_clock_across_dst(
    first: date, until: date, before: timedelta, after: timedelta
) -> None:
    rec = Recurrence(Frequency.WEEKLY, until=until)
    result = expand(
        datetime.combine(first, time(18)), datetime.combine(first, time(20)), BERLIN, rec
    )
    assert len(result.slots) == 4
    assert {(t[1], t[2]) for t in local_times(result)} == {(time(18), time(20))}
    assert utc_offsets(result) == [before, before, after, after]
    assert [s.starts_at.hour for s in result.slots] == [
        18 - before.seconds // 3600,
        18 - before.seconds // 3600,
        18 - after.seconds // 3600,
        18 - after.seconds // 3600,
    ]


def test_daily_0230_across_the_spring_gap() -> None:
    rec = Recurrence(Frequency.DAILY, count=3)
    result = expand(datetime(2026, 3, 28, 2, 30), datetime(2026, 3, 28, 3, 0), BERLIN, rec)
    assert result.slots == (
        Slot(datetime(2026, 3, 28, 1, 30, tzinfo=UTC), datetime(2026, 3, 28, 2, 0, tzinfo=UTC)),
        # 02:30 does not exist: read as 01:30 UTC (03:30 CEST); 03:00 CEST would be before it,
        # so the half hour is kept from the start.
        Slot(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
        Slot(datetime(2026, 3, 30, 0, 30, tzinfo=UTC), datetime(2026, 3, 30, 1, 0, tzinfo=UTC)),
    )


def test_daily_0230_across_the_autumn_overlap() -> None:
    rec = Recurrence(Frequency.DAILY, count=3)
    result = expand(datetime(2026, 10, 24, 2, 30), datetime(2026, 10, 24, 3, 30), BERLIN, rec)
    assert result.slots == (
        Slot(datetime(2026, 10, 24, 0, 30, tzinfo=UTC), datetime(2026, 10, 24, 1, 30, tzinfo=UTC)),
        # 02:30 happens twice: the first (CEST) one; 03:30 is unambiguous CET, so 2 h long.
        Slot(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        Slot(datetime(2026, 10, 26, 1, 30, tzinfo=UTC), datetime(2026, 10, 26, 2, 30, tzinfo=UTC)),
    )


def test_second_tuesday_monthly() -> None:
    rec = Recurrence(Frequency.MONTHLY, byweekday=(1,), bysetpos=2, count=4)
    result = expand(datetime(2026, 9, 8, 19), datetime(2026, 9, 8, 21), BERLIN, rec)
    assert [t[0] for t in local_times(result)] == [
        date(2026, 9, 8),
        date(2026, 10, 13),
        date(2026, 11, 10),
        date(2026, 12, 8),
    ]
    assert rec.to_rrule() == "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;COUNT=4"


def test_last_friday_monthly() -> None:
    rec = Recurrence(Frequency.MONTHLY, byweekday=(4,), bysetpos=-1, until=date(2027, 1, 31))
    result = expand(datetime(2026, 10, 30, 17), datetime(2026, 10, 30, 22), BERLIN, rec)
    assert [t[0] for t in local_times(result)] == [
        date(2026, 10, 30),
        date(2026, 11, 27),
        date(2026, 12, 25),
        date(2027, 1, 29),
    ]


def test_every_second_week_on_tuesday_and_thursday() -> None:
    rec = Recurrence(Frequency.WEEKLY, interval=2, byweekday=(3, 1), until=date(2026, 12, 3))
    result = expand(datetime(2026, 11, 3, 18), datetime(2026, 11, 3, 20), BERLIN, rec)
    assert [t[0] for t in local_times(result)] == [
        date(2026, 11, 3),
        date(2026, 11, 5),
        date(2026, 11, 17),
        date(2026, 11, 19),
        date(2026, 12, 1),
        date(2026, 12, 3),
    ]
    assert rec.to_rrule() == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20261203"


def test_monthly_on_the_31st_skips_short_months() -> None:
    rec = Recurrence(Frequency.MONTHLY, bymonthday=31, count=4)
    result = expand(datetime(2027, 1, 31, 10), datetime(2027, 1, 31, 12), BERLIN, rec)
    assert [t[0] for t in local_times(result)] == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
    ]


def test_a_start_off_the_rule_is_not_an_occurrence() -> None:
    # Monday 2 Nov 2026 as the start of a Tue/Thu rule: dateutil starts with the Tuesday.
    rec = Recurrence(Frequency.WEEKLY, byweekday=(1, 3), count=3)
    result = expand(datetime(2026, 11, 2, 18), datetime(2026, 11, 2, 20), BERLIN, rec)
    assert [t[0] for t in local_times(result)] == [
        date(2026, 11, 3),
        date(2026, 11, 5),
        date(2026, 11, 10),
    ]


def test_exdates_are_skipped_but_count() -> None:
    rec = Recurrence(
        Frequency.WEEKLY, count=4, exdates=frozenset({date(2026, 11, 10), date(2027, 5, 5)})
    )
    result = expand(datetime(2026, 11, 3, 18), datetime(2026, 11, 3, 20), BERLIN, rec)
    assert [t[0] for t in local_times(result)] == [
        date(2026, 11, 3),
        date(2026, 11, 17),
        date(2026, 11, 24),
    ]
    assert [(s.day, s.reason) for s in result.skipped] == [(date(2026, 11, 10), "excluded")]


def test_skip_closures_leaves_out_the_autumn_holidays() -> None:
    herbstferien = Closure(
        Slot(from_local(datetime(2026, 10, 17), BERLIN), from_local(datetime(2026, 11, 1), BERLIN)),
        "Herbstferien",
    )
    rec = Recurrence(Frequency.WEEKLY, until=date(2026, 11, 10), skip_closures=True)
    result = expand(
        datetime(2026, 10, 6, 18), datetime(2026, 10, 6, 20), BERLIN, rec, closures=[herbstferien]
    )
    assert [t[0] for t in local_times(result)] == [
        date(2026, 10, 6),
        date(2026, 10, 13),
        date(2026, 11, 3),
        date(2026, 11, 10),
    ]
    assert result.skipped == (
        Skipped(date(2026, 10, 20), "closed", herbstferien),
        Skipped(date(2026, 10, 27), "closed", herbstferien),
    )
    kept = expand(
        datetime(2026, 10, 6, 18),
        datetime(2026, 10, 6, 20),
        BERLIN,
        Recurrence(Frequency.WEEKLY, until=date(2026, 11, 10)),
        closures=[herbstferien],
    )
    assert len(kept.slots) == 6


def test_end_on_a_later_day() -> None:
    rec = Recurrence(Frequency.WEEKLY, count=2)
    result = expand(datetime(2026, 10, 24, 22), datetime(2026, 10, 25, 4), BERLIN, rec)
    # Across the autumn change the night is 7 h long, the next week 6 h.
    assert [s.duration for s in result.slots] == [timedelta(hours=7), timedelta(hours=6)]


# --- validation and limits ---------------------------------------------------------------------

START, END = datetime(2026, 11, 3, 18), datetime(2026, 11, 3, 20)


@pytest.mark.parametrize(
    ("rec", "field"),
    [
        (Recurrence(Frequency.DAILY, count=501), "count"),
        (Recurrence(Frequency.DAILY, until=date(2028, 3, 17)), "until"),  # 501 dates
        (Recurrence(Frequency.MONTHLY, count=30), "count"),  # 29 months > 731 days
        (Recurrence(Frequency.WEEKLY, until=date(2028, 11, 4)), "until"),  # 732 days
        (Recurrence(Frequency.DAILY, count=10**9), "count"),
        (Recurrence(Frequency.DAILY, until=date(9999, 12, 31)), "until"),
        (Recurrence(Frequency.WEEKLY), "until"),
        (Recurrence(Frequency.WEEKLY, count=3, until=date(2027, 1, 1)), "count"),
        (Recurrence(Frequency.WEEKLY, count=0), "count"),
        (Recurrence(Frequency.WEEKLY, until=date(2026, 11, 2)), "until"),
        (Recurrence(Frequency.WEEKLY, interval=0, count=3), "interval"),
        (Recurrence(Frequency.WEEKLY, interval=53, count=3), "interval"),
        (Recurrence(Frequency.WEEKLY, byweekday=(7,), count=3), "byweekday"),
        (Recurrence(Frequency.MONTHLY, bysetpos=2, count=3), "byweekday"),
        (Recurrence(Frequency.MONTHLY, bysetpos=2, byweekday=(1, 3), count=3), "byweekday"),
        (Recurrence(Frequency.MONTHLY, bysetpos=6, byweekday=(1,), count=3), "bysetpos"),
        (Recurrence(Frequency.MONTHLY, byweekday=(1,), count=3), "byweekday"),
        (Recurrence(Frequency.MONTHLY, bymonthday=32, count=3), "bymonthday"),
        (Recurrence(Frequency.MONTHLY, bymonthday=0, count=3), "bymonthday"),
        (Recurrence(Frequency.WEEKLY, bymonthday=3, count=3), "bymonthday"),
        (Recurrence(Frequency.WEEKLY, bysetpos=1, byweekday=(1,), count=3), "bysetpos"),
    ],
)
def test_invalid_series_name_the_field(rec: Recurrence, field: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        expand(START, END, BERLIN, rec)
    assert info.value.field == field
    assert str(info.value)


def test_limits_are_inclusive() -> None:
    assert len(expand(START, END, BERLIN, Recurrence(Frequency.DAILY, count=500)).slots) == 500
    two_years = Recurrence(Frequency.WEEKLY, until=date(2028, 11, 3))
    assert len(expand(START, END, BERLIN, two_years).slots) == 105


def test_limit_message_names_the_limit() -> None:
    with pytest.raises(RecurrenceError, match="500"):
        expand(START, END, BERLIN, Recurrence(Frequency.DAILY, count=10**9))


def test_own_limits() -> None:
    small = Limits(max_occurrences=3, max_span=timedelta(days=10))
    with pytest.raises(RecurrenceError) as info:
        expand(START, END, BERLIN, Recurrence(Frequency.DAILY, count=4), limits=small)
    assert info.value.field == "count"
    with pytest.raises(RecurrenceError) as info:
        expand(START, END, BERLIN, Recurrence(Frequency.WEEKLY, count=3), limits=small)
    assert info.value.field == "count"


@settings(max_examples=20, deadline=timedelta(milliseconds=500), database=None)
@given(st.integers(501, 10**12), st.dates(date(2028, 11, 5), date(9999, 12, 31)))
def test_huge_series_fail_fast(count: int, until: date) -> None:
    for rec in (Recurrence(Frequency.DAILY, count=count), Recurrence(Frequency.DAILY, until=until)):
        with pytest.raises(RecurrenceError):
            expand(START, END, BERLIN, rec)


def test_end_must_follow_start() -> None:
    with pytest.raises(RecurrenceError) as info:
        expand(END, START, BERLIN, Recurrence(Frequency.WEEKLY, count=2))
    assert info.value.field == "end"


# --- RRULE text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rec"),
    [
        ("FREQ=DAILY;COUNT=5", Recurrence(Frequency.DAILY, count=5)),
        (
            "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101",
            Recurrence(Frequency.MONTHLY, byweekday=(4,), bysetpos=-1, until=date(2027, 1, 1)),
        ),
        (
            "FREQ=WEEKLY;WKST=MO;INTERVAL=2;BYDAY=TH,TU;UNTIL=20270630T160000Z",
            Recurrence(Frequency.WEEKLY, 2, (1, 3), until=date(2027, 6, 30)),
        ),
    ],
)
def test_from_rrule_reads_other_spellings(text: str, rec: Recurrence) -> None:
    assert Recurrence.from_rrule(text, tz=BERLIN) == rec


def test_ical_rrule_until_is_utc() -> None:
    rec = Recurrence(Frequency.WEEKLY, interval=2, byweekday=(1, 3), until=date(2027, 6, 30))
    assert rec.ical_rrule(START, BERLIN) == (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630T160000Z"
    )
    again = Recurrence.from_rrule(rec.ical_rrule(START, BERLIN), tz=BERLIN)
    assert again == rec


@pytest.mark.parametrize("text", ["FREQ=YEARLY;COUNT=2", "FREQ=WEEKLY;BYHOUR=3", "FREQ=DAILY;X"])
def test_from_rrule_rejects_what_we_do_not_support(text: str) -> None:
    with pytest.raises(RecurrenceError):
        Recurrence.from_rrule(text)


def test_frequency_accepts_its_value_and_rejects_others() -> None:
    assert Recurrence("weekly", count=2).freq is Frequency.WEEKLY  # type: ignore[arg-type]
    with pytest.raises(RecurrenceError) as info:
        Recurrence("yearly", count=2)  # type: ignore[arg-type]
    assert info.value.field == "freq"
