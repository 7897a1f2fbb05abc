"""The free-room search decides in the database which rooms have bookings in the way
(``occupancy.rooms_in_use``), the weekly search on which dates (``occupancy.dates_in_use``).
On random worlds, their answers must be the pure core's answers for every room:
``domain.all_free`` over the room's occupancy rows, buffers and closures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import domain
from booking.models import Booking, Closure, Occupancy, Occurrence, OccurrenceStatus
from booking.services import catalogue, occupancy, search

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 9, 1, tzinfo=UTC)
FIRST = datetime(2026, 10, 6)  # a Tuesday; the weekly searches run 8 weeks from here, over DST

booking_spec = st.tuples(
    st.integers(0, 4),  # which room (0: the hall, 1-2: its halves, 3-4: two plain rooms)
    st.integers(0, 55),  # days after FIRST
    st.integers(14 * 4, 22 * 4),  # start, in quarter hours of the day
    st.sampled_from([30, 45, 60, 90, 120, 180]),  # minutes
)
world_spec = st.fixed_dictionaries(
    {
        "buffers": st.lists(
            st.tuples(st.sampled_from([0, 15, 30]), st.sampled_from([0, 15, 30])),
            min_size=5,
            max_size=5,
        ),
        "bookings": st.lists(booking_spec, max_size=25),
        "closure": st.none() | st.tuples(st.integers(0, 4), st.integers(0, 55)),
        "query": st.tuples(
            st.integers(15 * 4, 21 * 4),  # start in quarter hours
            st.sampled_from([60, 90, 120]),
            st.sampled_from([None, 1, 3, 8]),  # weekly for that many weeks, or a single date
        ),
    }
)


def occupy(db, user, room, units, padded: domain.Slot, minutes_before: int, minutes_after: int):
    """An approved date of ``room`` and its occupancy rows (padded by the room's buffers)."""
    booking = Booking(room=room, requested_by=user, title="Training")
    db.session.add(booking)
    db.session.flush()
    occurrence = Occurrence(
        booking_id=booking.id,
        room_id=room.id,
        starts_at=padded.starts_at + timedelta(minutes=minutes_before),
        ends_at=padded.ends_at - timedelta(minutes=minutes_after),
        status=OccurrenceStatus.APPROVED,
    )
    db.session.add(occurrence)
    db.session.flush()
    for unit in units:
        db.session.add(
            Occupancy(
                occurrence_id=occurrence.id,
                unit_id=unit,
                starts_at=padded.starts_at,
                ends_at=padded.ends_at,
            )
        )


def build(db, make_site, make_room, make_user, world) -> list:
    user = make_user()
    site = make_site()
    hall = make_room(site, name="Hall")
    rooms = [
        hall,
        make_room(site, name="Half A", parent=hall),
        make_room(site, name="Half B", parent=hall),
        make_room(site, name="Plain 1"),
        make_room(site, name="Plain 2"),
    ]
    for room, (before, after) in zip(rooms, world["buffers"], strict=True):
        room.buffer_before_minutes, room.buffer_after_minutes = before, after
    db.session.flush()
    tree = catalogue.current().tree
    # Occupancy written directly, as the booking service writes it; a booking that would overlap
    # an earlier one is left out (the exclusion constraint would refuse it).
    taken: dict[int, list[domain.Slot]] = {}
    for which, day, quarter, minutes in world["bookings"]:
        room = rooms[which]
        start = domain.from_local(
            FIRST.replace(hour=0) + timedelta(days=day, minutes=15 * quarter), BERLIN
        )
        padded = domain.Slot(
            start - timedelta(minutes=room.buffer_before_minutes),
            start + timedelta(minutes=minutes + room.buffer_after_minutes),
        )
        units = tree.units(room.id)
        if any(padded.overlaps(other) for u in units for other in taken.get(u, ())):
            continue
        for unit in units:
            taken.setdefault(unit, []).append(padded)
        occupy(db, user, room, units, padded, room.buffer_before_minutes, room.buffer_after_minutes)
    if world["closure"] is not None:
        which, day = world["closure"]
        start = domain.from_local(FIRST.replace(hour=0) + timedelta(days=day), BERLIN)
        db.session.add(
            Closure(
                site_id=site.id,
                room_id=rooms[which].id,
                starts_at=start,
                ends_at=start + timedelta(days=1),
                reason="Inventur",
            )
        )
    db.session.flush()
    return rooms


def core_answer(room_ids, slots) -> list[int]:
    """Free rooms by the pure core, from every occupancy row near the slots."""
    contexts = search.room_context.load_contexts(room_ids, slots)
    free = []
    for context in contexts.values():
        rules = dataclasses.replace(context.rules, opening=None)
        padded = [s.padded(rules.buffer_before, rules.buffer_after) for s in slots]
        busy = occupancy.busy(context.units, padded)
        if domain.all_free(slots, tz=BERLIN, rules=rules, busy=busy, closures=context.closures):
            free.append(context.room_id)
    return sorted(free)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=world_spec)
def test_the_database_finds_the_rooms_the_core_finds(
    db, make_site, make_room, make_user, reset_database, world
):
    try:
        rooms = build(db, make_site, make_room, make_user, world)
        quarter, minutes, weeks = world["query"]
        start = FIRST + timedelta(minutes=15 * quarter)
        until = None if weeks is None else (start + timedelta(weeks=weeks - 1)).date()
        query = search.RoomQuery(
            start=start, end=start + timedelta(minutes=minutes), weekly_until=until
        )
        slots = search._query_slots(query, BERLIN)
        ids = [room.id for room in rooms]
        found = sorted(search.free_room_ids(ids, slots, now=NOW))
        assert found == core_answer(ids, slots)
        listed = sorted(m.room.id for m in search.search_rooms(query, zone=BERLIN, now=NOW))
        assert listed == found
        assert search.room_ids(query, zone=BERLIN, now=NOW) == found  # what the API lists
        if until is not None:  # weeks a room is closed left out: the page's and the ids agree
            skipping = dataclasses.replace(query, skip_closures=True)
            pages = search.search_rooms(skipping, zone=BERLIN, now=NOW)
            assert search.room_ids(skipping, zone=BERLIN, now=NOW) == sorted(
                m.room.id for m in pages
            )
        # The weekly search's count per room: on how many of the dates the core finds it free.
        free_on = [core_answer(ids, [slot]) for slot in slots]
        counts = search.count_free_dates(ids, slots, now=NOW, skip_closures=False)
        assert {i: c.free for i, c in counts.items()} == {
            i: sum(i in free for free in free_on) for i in ids
        }
    finally:
        reset_database()


def test_a_rooms_own_buffers_decide(db, make_site, make_room, make_user):
    """Two rooms with the same booking before the searched hour: only the one whose set-up time
    reaches back into that booking is taken."""
    site = make_site()
    tight = make_room(site, name="Tight")
    roomy = make_room(site, name="Roomy", buffer_before_minutes=30)
    end_of_booking = domain.from_local(datetime(2026, 10, 6, 18), BERLIN)
    user = make_user()
    for room in (tight, roomy):
        booked = domain.Slot(end_of_booking - timedelta(hours=1), end_of_booking)
        occupy(db, user, room, [room.id], booked, 0, 0)
    slot = domain.Slot(end_of_booking + timedelta(minutes=15), end_of_booking + timedelta(hours=1))
    assert search.free_room_ids([tight.id, roomy.id], [slot], now=NOW) == [tight.id]
    assert date(2026, 10, 6) == slot.starts_at.astimezone(BERLIN).date()
