"""Dates as a requester sees them, and the quick time-rule check search uses.

``within_time_rules`` must say yes exactly when ``check`` reports none of the time and duration
problems, or a search would offer a time the booking form then refuses.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booking.domain import Reason, RoomRules, Slot, check, plan_dates, within_time_rules

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)
TIME_RULES = {
    Reason.IN_PAST,
    Reason.TOO_SHORT_NOTICE,
    Reason.TOO_FAR_AHEAD,
    Reason.TOO_SHORT,
    Reason.TOO_LONG,
}
minutes = st.integers(0, 6 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def rules(draw) -> RoomRules:
    return RoomRules(
        capacity=10,
        min_lead=draw(st.sampled_from([timedelta(0), timedelta(hours=24), timedelta(days=2)])),
        max_advance=draw(st.none() | st.sampled_from([timedelta(days=1), timedelta(days=3)])),
        min_duration=draw(st.none() | st.sampled_from([timedelta(minutes=30), timedelta(hours=2)])),
        max_duration=draw(st.none() | st.sampled_from([timedelta(hours=1), timedelta(hours=4)])),
    )


@st.composite
def slots(draw) -> list[Slot]:
    found = []
    for _ in range(draw(st.integers(1, 5))):
        start = NOW - timedelta(hours=12) + draw(minutes)
        found.append(Slot(start, start + timedelta(minutes=draw(st.integers(15, 300)))))
    return found


@given(rules(), slots())
def test_within_time_rules_agrees_with_check(room_rules, candidates):
    problems = check(candidates, rules=room_rules, tz=BERLIN, now=NOW)
    expected = not any(p.reason in TIME_RULES for found in problems for p in found)
    assert within_time_rules(candidates, room_rules, NOW) == expected


def test_plan_dates_shows_local_wall_times_and_problems():
    winter = Slot(datetime(2026, 12, 1, 17, tzinfo=UTC), datetime(2026, 12, 1, 19, tzinfo=UTC))
    summer = Slot(datetime(2026, 7, 1, 16, tzinfo=UTC), datetime(2026, 7, 1, 18, tzinfo=UTC))
    rules_ = RoomRules(capacity=10, max_duration=timedelta(hours=1))
    plans = plan_dates(
        [winter, summer], check([winter, summer], rules=rules_, tz=BERLIN, now=NOW), BERLIN
    )
    assert [(p.local_start.hour, p.local_end.hour) for p in plans] == [(18, 20), (18, 20)]
    assert [p.reasons for p in plans] == [["too_long"], ["in_past", "too_long"]]
    assert not any(p.bookable for p in plans)
