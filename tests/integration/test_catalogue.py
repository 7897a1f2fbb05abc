"""The per-process room catalogue is never used after its data changed, whoever changed it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from booking.extensions import db as _db
from booking.models import OpeningWindow
from booking.services import catalogue, places, search
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


# The README promises the same for a change to a site or to a room's features, made through the
# services the admin pages and the API call: the next search sees it, in the same process.


def _changed_site(user, site, **changes) -> None:
    current = places.site_command(places.site_for_editing(user, site.id))
    places.update_site(user, site.id, dataclasses.replace(current, **changes))
    _db.session.commit()


def _changed_room(user, room, **changes) -> None:
    current = places.room_command(places.room_for_editing(user, room.id))
    places.update_room(user, room.id, dataclasses.replace(current, **changes))
    _db.session.commit()


def site_names(query=EVENING) -> list[str]:
    """The sites of the rooms found, in the order the search lists them."""
    return [m.room.site.name for m in find(query)]


def test_a_renamed_site_is_listed_under_its_new_name(db, make_site, make_room, make_user):
    admin = make_user(is_admin=True)
    alpha, beta = make_site(name="Alpha-Schule"), make_site(name="Beta-Haus")
    make_room(alpha, name="Aula")
    make_room(beta, name="Saal")
    db.session.commit()
    assert site_names() == ["Alpha-Schule", "Beta-Haus"]
    _changed_site(admin, alpha, name="Zeppelin-Schule")
    assert site_names() == ["Beta-Haus", "Zeppelin-Schule"]


def test_a_site_moved_to_another_district_is_found_there(db, make_site, make_room, make_user):
    site = make_site(district="Innenstadt")
    make_room(site, name="Aula")
    manager = make_user(manages=[site])
    db.session.commit()
    centre = dataclasses.replace(EVENING, district="Innenstadt")
    letmathe = dataclasses.replace(EVENING, district="Letmathe")
    assert (free_names(centre), free_names(letmathe)) == (["Aula"], [])
    _changed_site(manager, site, district="Letmathe")
    assert (free_names(centre), free_names(letmathe)) == ([], ["Aula"])


def test_a_deactivated_site_drops_out_and_comes_back(db, make_site, make_room, make_user):
    admin = make_user(is_admin=True)
    site = make_site()
    make_room(site, name="Aula")
    db.session.commit()
    assert free_names() == ["Aula"]
    _changed_site(admin, site, active=False)
    assert free_names() == []
    _changed_site(admin, site, active=True)
    assert free_names() == ["Aula"]


def test_a_room_given_a_feature_is_found_by_it(db, make_site, make_room, make_user):
    site = make_site()
    room = make_room(site, name="Aula", features=["projector"])
    manager = make_user(manages=[site])
    db.session.commit()
    stage = dataclasses.replace(EVENING, features=("stage",))
    projector = dataclasses.replace(EVENING, features=("projector",))
    assert (free_names(stage), free_names(projector)) == ([], ["Aula"])
    _changed_room(manager, room, features=("stage",))
    assert (free_names(stage), free_names(projector)) == (["Aula"], [])


# Closures and the sites' managers are part of the catalogue as well (migration 0015).


def test_a_closure_added_later_is_enforced(db, make_room, make_user):
    room = make_room(name="Aula")
    user = make_user()
    db.session.commit()
    assert free_names() == ["Aula"]
    # As the holiday import or a database console would write it: plain SQL.
    db.session.execute(
        text(
            "INSERT INTO closure (site_id, room_id, starts_at, ends_at, reason, created_at) "
            "VALUES (:site, NULL, :start, :end, 'Herbstferien', :start)"
        ),
        {
            "site": room.site_id,
            "start": datetime(2026, 10, 5, tzinfo=UTC),
            "end": datetime(2026, 10, 10, tzinfo=UTC),
        },
    )
    # Seen in the same transaction, before the commit, and after it.
    assert free_names() == []
    db.session.commit()
    assert free_names() == []
    with pytest.raises(Conflict) as refused:
        request_booking(
            user,
            BookingCommand(room_id=room.id, title="Chor", start=TUESDAY_18, end=TUESDAY_20),
            now=BEFORE,
        )
    assert refused.value.dates[0].reasons == ["closed"]
    db.session.rollback()
    db.session.execute(text("DELETE FROM closure"))
    db.session.commit()
    assert free_names() == ["Aula"]


def test_a_manager_named_or_removed_later_counts_at_once(db, make_room, make_user):
    from booking.services import permissions

    room = make_room(name="Aula")
    caretaker = make_user()
    db.session.commit()
    assert not permissions.can_manage_site(caretaker, room.site_id)
    caretaker.managed_sites.append(room.site)
    db.session.flush()  # not committed yet: this transaction sees it
    assert permissions.can_manage_site(caretaker, room.site_id)
    db.session.commit()
    assert permissions.can_manage_site(caretaker, room.site_id)
    db.session.execute(text("DELETE FROM site_manager"))
    assert not permissions.can_manage_site(caretaker, room.site_id)
    db.session.rollback()
    assert permissions.can_manage_site(caretaker, room.site_id)  # the removal was rolled back


def test_a_session_asks_for_the_version_once_until_it_writes(db, make_room):
    from sqlalchemy import event

    room = make_room(name="Aula")
    db.session.commit()
    asked = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "catalogue_version" in statement:
            asked.append(statement)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        catalogue.current()
        catalogue.current()
        assert len(asked) == 1
        room.capacity = 12
        _db.session.flush()
        assert catalogue.current().rooms[room.id].capacity == 12  # its own change, asked again
        assert len(asked) == 2
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
