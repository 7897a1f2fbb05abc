"""Finding free rooms and reading a room's week, against a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain import Slot
from booking.models import Closure
from booking.services import search
from booking.services.errors import InvalidRequest

TUESDAY_18 = datetime(2026, 10, 6, 18)
TUESDAY_20 = datetime(2026, 10, 6, 20)

BERLIN = ZoneInfo("Europe/Berlin")
BEFORE = datetime(2026, 9, 1, 9, tzinfo=UTC)  # "now" for searches: a month before TUESDAY_18


def find(query):
    return search.search_rooms(query, zone=BERLIN, now=BEFORE)


def names(matches) -> list[str]:
    return [m.room.name for m in matches]


@pytest.fixture
def rooms(make_site, make_room):
    school = make_site(district="Letmathe")
    library = make_site(district="Innenstadt")
    return {
        "gym": make_room(school, name="Gym", capacity=100, features=["sports_floor"]),
        "music": make_room(school, name="Music", capacity=25, features=["piano"], step_free=True),
        "group": make_room(
            library,
            name="Group",
            capacity=10,
            features=["projector", "wifi"],
            step_free=True,
        ),
        "hall": make_room(library, name="Hall", capacity=80, features=["projector", "piano"]),
    }


def test_static_filters(db, rooms):
    assert names(find(search.RoomQuery(min_capacity=20))) == [
        "Music",
        "Hall",
        "Gym",
    ]  # the smallest room that fits first
    query = search.RoomQuery(features=("projector", "piano"))
    assert names(find(query)) == ["Hall"]
    assert set(names(find(search.RoomQuery(district="Letmathe")))) == {
        "Gym",
        "Music",
    }
    assert set(names(find(search.RoomQuery(step_free=True)))) == {
        "Music",
        "Group",
    }


def test_busy_closed_and_buffered_rooms_are_not_free(db, rooms, make_user, make_booking):
    user = make_user()
    make_booking(user, rooms["gym"], datetime(2026, 10, 6, 19), 60)
    rooms["music"].buffer_after_minutes = 30
    make_booking(user, rooms["music"], datetime(2026, 10, 6, 17), 45)  # + 30 min cleaning
    db.session.add(
        Closure(
            site_id=rooms["group"].site_id,
            room_id=rooms["group"].id,
            starts_at=datetime(2026, 10, 6, 0, tzinfo=UTC),
            ends_at=datetime(2026, 10, 7, 0, tzinfo=UTC),
            reason="Inventur",
        )
    )
    db.session.commit()
    found = find(search.RoomQuery(start=TUESDAY_18, end=TUESDAY_20))
    assert names(found) == ["Hall"]
    # Outside the busy time the gym is free again
    later = search.RoomQuery(start=datetime(2026, 10, 6, 20), end=datetime(2026, 10, 6, 21))
    assert "Gym" in names(find(later))


def test_opening_hours_limit_the_search(db, make_room):
    make_room(name="Evening only", hours=[(1, 17 * 60, 22 * 60)])  # Tuesdays 17-22
    morning = search.RoomQuery(start=datetime(2026, 10, 6, 9), end=datetime(2026, 10, 6, 10))
    evening = search.RoomQuery(start=TUESDAY_18, end=TUESDAY_20)
    assert names(find(morning)) == []
    assert names(find(evening)) == ["Evening only"]


def test_a_booked_whole_hall_makes_its_parts_busy(db, make_room, make_user, make_booking):
    hall = make_room(name="Whole", capacity=300)
    make_room(hall.site, name="Part A", parent=hall, capacity=100)
    make_booking(make_user(), hall, TUESDAY_18, 120)
    query = search.RoomQuery(start=TUESDAY_18, end=TUESDAY_20)
    assert names(find(query)) == []


def test_weekly_slot_over_a_term(db, rooms, make_user, make_booking):
    make_booking(make_user(), rooms["hall"], datetime(2026, 11, 3, 18), 60)
    query = search.RoomQuery(
        start=TUESDAY_18,
        end=TUESDAY_20,
        features=("projector",),
        weekly_until=date(2026, 12, 15),
    )
    assert names(find(query)) == ["Group"]  # the hall is taken on 3 November
    assert len(find(query)[0].slots) == 11


def test_bad_search_input_names_the_field(db, rooms):
    with pytest.raises(InvalidRequest) as raised:
        find(search.RoomQuery(start=TUESDAY_20, end=TUESDAY_18))
    assert raised.value.field == "end"
    with pytest.raises(InvalidRequest) as raised:
        find(search.RoomQuery(start=TUESDAY_18))
    assert raised.value.field == "end"


def test_availability_hides_private_details(db, rooms, make_user, make_organisation, make_booking):
    organisation = make_organisation(name="Chor")
    user = make_user(organisations=[organisation])
    room = rooms["hall"]
    make_booking(user, room, TUESDAY_18, 60, title="Geheim", organisation_id=organisation.id)
    make_booking(
        user,
        room,
        TUESDAY_20,
        60,
        title="Offene Probe",
        organisation_id=organisation.id,
        is_public=True,
    )
    window = Slot(datetime(2026, 10, 6, tzinfo=UTC), datetime(2026, 10, 7, tzinfo=UTC))
    view = search.room_availability(room, window)
    assert [(b.title, b.organisation) for b in view.busy] == [
        (None, None),
        ("Offene Probe", "Chor"),
    ]
    # Free: the day minus 18-19 and 20-21 local (16-17, 18-19 UTC)
    assert [(s.starts_at.hour, s.ends_at.hour) for s in view.free] == [(0, 16), (17, 18), (19, 0)]


def test_room_week_across_the_autumn_clock_change(db, make_room):
    room = make_room()
    week = search.room_week(room, date(2026, 10, 28))  # a Wednesday
    assert week.monday == date(2026, 10, 26)
    assert [d.day for d in week.days] == [date(2026, 10, 26) + timedelta(days=i) for i in range(7)]
    assert len(week.days) == 7
    assert week.previous_week == date(2026, 10, 19)
    # A whole free winter day is 24 hours long, from local midnight
    assert week.days[0].free[0].starts_at == datetime(2026, 10, 25, 23, tzinfo=UTC)
    sunday_before = search.room_week(room, date(2026, 10, 25)).days[-1]
    assert sunday_before.free[0].duration == timedelta(hours=25)  # the clocks went back


@pytest.mark.parametrize(
    ("ahead", "length", "why_not"),
    [
        (timedelta(days=3), timedelta(hours=2), None),
        (timedelta(hours=20), timedelta(hours=2), "too_short_notice"),
        (timedelta(days=45), timedelta(hours=2), "too_far_ahead"),
        (timedelta(days=3), timedelta(minutes=30), "too_short"),
        (timedelta(days=3), timedelta(hours=5), "too_long"),
        (timedelta(days=-1), timedelta(hours=2), "in_past"),
    ],
)
def test_search_offers_only_what_the_booking_form_accepts(
    db, make_room, make_user, ahead, length, why_not
):
    """Search and the booking preview apply the same room rules (notice, how far ahead,
    duration), so a room found free is never refused in the preview, and the other way round."""
    from booking.services.bookings import BookingCommand, plan_booking

    room = make_room(
        name="Strict",
        min_lead_minutes=48 * 60,
        max_advance_days=30,
        min_duration_minutes=60,
        max_duration_minutes=4 * 60,
    )
    user = make_user()
    db.session.commit()
    start = (BEFORE + ahead).astimezone(BERLIN).replace(tzinfo=None, minute=0, second=0)
    query = search.RoomQuery(start=start, end=start + length)
    found = names(find(query)) == ["Strict"]
    command = BookingCommand(room_id=room.id, title="Probe", start=start, end=start + length)
    [date] = plan_booking(user, command, now=BEFORE).dates
    assert found == date.bookable
    assert date.reasons == ([] if why_not is None else [why_not])
