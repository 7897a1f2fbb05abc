"""The per-process room catalogue is never used after its data changed, whoever changed it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from booking.models import OpeningWindow
from booking.services import catalogue, search
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import Conflict

TUESDAY_18 = datetime(2026, 10, 6, 18)
TUESDAY_20 = datetime(2026, 10, 6, 20)

BERLIN = ZoneInfo("Europe/Berlin")
BEFORE = datetime(2026, 9, 1, 9, tzinfo=UTC)  # "now" for searches: a month before TUESDAY_18


def find(query):
    return search.search_rooms(query, zone=BERLIN, now=BEFORE)


EVENING = search.RoomQuery(start=TUESDAY_18, end=TUESDAY_20)


def free_names(query=EVENING) -> list[str]:
    return sorted(m.room.name for m in find(query))


def test_an_unchanged_catalogue_is_reused(db, make_room):
    make_room(name="Aula")
    db.session.commit()
    first = catalogue.current()
    db.session.commit()
    assert catalogue.current() is first


def test_a_room_added_later_is_found(db, make_site, make_room):
    site = make_site()
    make_room(site, name="Aula")
    db.session.commit()
    assert free_names() == ["Aula"]
    make_room(site, name="Werkraum")
    db.session.commit()
    assert free_names() == ["Aula", "Werkraum"]


def test_a_change_made_outside_the_application_is_seen(db, make_room):
    room = make_room(name="Aula", capacity=80)
    db.session.commit()
    big = search.RoomQuery(start=TUESDAY_18, end=TUESDAY_20, min_capacity=50)
    assert free_names(big) == ["Aula"]
    # As a caretaker's script or a database console would: no ORM involved.
    db.session.execute(text("UPDATE room SET capacity = 20 WHERE id = :id"), {"id": room.id})
    db.session.commit()
    assert free_names(big) == []


def test_opening_hours_added_later_are_enforced_for_bookings(db, make_room, make_user):
    room = make_room(name="Aula")
    user = make_user()
    db.session.commit()
    assert free_names() == ["Aula"]  # the catalogue knows the room as always open
    db.session.add(
        OpeningWindow(site_id=room.site_id, weekday=1, opens=8 * 60, closes=17 * 60)
    )  # Tuesdays 08:00-17:00 at the whole site
    db.session.commit()
    assert free_names() == []
    with pytest.raises(Conflict) as refused:
        request_booking(
            user,
            BookingCommand(room_id=room.id, title="Chor", start=TUESDAY_18, end=TUESDAY_20),
            now=datetime(2026, 9, 1, tzinfo=UTC),
        )
    assert refused.value.dates[0].reasons == ["outside_opening_hours"]


def test_a_rolled_back_change_leaves_no_trace(db, make_site, make_room):
    site = make_site()
    make_room(site, name="Aula")
    db.session.commit()
    make_room(site, name="Provisorium")  # flushed, not committed
    assert free_names() == ["Aula", "Provisorium"]  # this transaction sees its own room
    db.session.rollback()
    assert free_names() == ["Aula"]
