"""Administration of sites and rooms (#11): admins create sites, a site's managers edit it and
its rooms, divisible rooms are built from parts, and every change leaves an audit row."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from booking.models import AuditEvent, Room, Site, SiteKind
from booking.services import places
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import Conflict, InvalidRequest, NotPermitted

SOON = (datetime.now(UTC) + timedelta(days=30)).replace(hour=16, minute=0, second=0, microsecond=0)

SITE_FORM = {
    "name": "Alter Markt",
    "kind": "square",
    "district": "Innenstadt",
    "street": "Alter Markt 1",
    "postcode": "58636",
    "city": "Iserlohn",
    "timezone": "Europe/Berlin",
    "contact_name": "Marktamt",
    "contact_phone": "02371 1234",
    "contact_email": "markt@example.org",
    "description": "Der Platz vor dem Rathaus.",
    "active": "y",
}


def room_form(**changes) -> dict:
    form = {
        "name": "Turnhalle",
        "parent_id": "",
        "capacity": "120",
        "area_m2": "800",
        "approval_policy": "manual",
        "min_lead_minutes": "0",
        "max_advance_days": "400",
        "min_duration_minutes": "",
        "max_duration_minutes": "",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "features": ["sports_floor", "changing_rooms"],
        "step_free": "y",
        "active": "y",
    }
    return form | changes


def audit_rows(db, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_creates_a_site_with_an_outdoor_kind(client, db, make_user, login_as):
    admin = login_as(make_user(is_admin=True))
    assert client.get("/admin/sites/new").status_code == 200
    response = client.post("/admin/sites/new", data=SITE_FORM)
    assert response.status_code == 302
    site = db.session.scalar(select(Site).where(Site.name == "Alter Markt"))
    assert site.kind is SiteKind.SQUARE
    assert site.contact_email == "markt@example.org"
    assert site.timezone == "Europe/Berlin"
    (row,) = audit_rows(db, "site_created")
    assert row.booking_id is None and row.actor_id == admin.id
    assert row.site_id == site.id and row.room_id is None
    assert row.details["changes"]["kind"] == [None, "square"]
    page = client.get("/admin").get_data(as_text=True)
    assert "Alter Markt" in page and f"/admin/sites/{site.id}/edit" in page


def test_site_validation_names_the_field(client, db, make_user, login_as):
    login_as(make_user(is_admin=True))
    response = client.post("/admin/sites/new", data=SITE_FORM | {"timezone": "Europe/Iserlohn"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#timezone"' in html and 'id="timezone-error"' in html
    assert db.session.scalar(select(Site)) is None
    with pytest.raises(InvalidRequest) as caught:
        places.create_site(
            make_user(is_admin=True),
            places.SiteCommand(name="X", kind="square", district="A", contact_email="nope"),
        )
    assert (caught.value.field, caught.value.code) == ("contact_email", "email_invalid")


def test_a_manager_edits_their_site_but_not_another(client, db, make_site, make_user, login_as):
    mine, other = make_site(name="Meine Schule"), make_site(name="Andere Schule")
    manager = login_as(make_user(manages=[mine]))
    assert client.get("/admin").status_code == 200
    assert client.get("/admin/sites/new").status_code == 403
    form = SITE_FORM | {"name": "Meine Schule", "kind": "school", "district": "Letmathe"}
    form.pop("active")  # managers see no such box, and their save keeps the site active
    assert client.post(f"/admin/sites/{mine.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Site, mine.id).district == "Letmathe"
    assert db.session.get(Site, mine.id).active
    assert client.get(f"/admin/sites/{other.id}/edit").status_code == 403
    assert client.post(f"/admin/sites/{other.id}/edit", data=form).status_code == 403
    assert client.get("/admin/sites/999999/edit").status_code == 404
    current = places.site_command(db.session.get(Site, mine.id))
    with pytest.raises(NotPermitted):
        places.update_site(manager, mine.id, dataclasses.replace(current, active=False))
    (row,) = audit_rows(db, "site_updated")
    assert row.details["changes"]["district"] == ["Innenstadt", "Letmathe"]
    assert "name" not in row.details["changes"] and "active" not in row.details["changes"]


def test_people_without_rights_get_403_and_anonymous_the_login(client, make_user, login_as):
    assert client.get("/admin").status_code == 302
    login_as(make_user())
    assert client.get("/admin").status_code == 403


def test_divisible_hall_booking_the_whole_blocks_a_part(client, db, make_site, make_user, login_as):
    site = make_site(name="Sportzentrum")
    manager = login_as(make_user(manages=[site]))
    assert client.post(f"/admin/sites/{site.id}/rooms/new", data=room_form()).status_code == 302
    hall = db.session.scalar(select(Room).where(Room.name == "Turnhalle"))
    for name in ("Halle A", "Halle B"):
        part = room_form(name=name, parent_id=str(hall.id), capacity="40")
        assert client.post(f"/admin/sites/{site.id}/rooms/new", data=part).status_code == 302
    db.session.expire_all()
    hall = db.session.get(Room, hall.id)
    assert sorted(p.name for p in hall.parts) == ["Halle A", "Halle B"]
    assert sorted(hall.features) == ["changing_rooms", "sports_floor"]
    part_a = next(p for p in hall.parts if p.name == "Halle A")

    def book(room):
        command = BookingCommand(
            room_id=room.id, title="Training", start=SOON, end=SOON + timedelta(hours=2)
        )
        return request_booking(manager, command)

    book(hall)
    db.session.commit()
    with pytest.raises(Conflict):
        book(part_a)
    created = audit_rows(db, "room_created")
    assert {r.room_id for r in created} == {hall.id, *(p.id for p in hall.parts)}
    assert all(r.site_id == site.id for r in created)


def test_a_cycle_in_parts_is_refused(client, db, make_site, make_room, make_user, login_as):
    site = make_site()
    hall = make_room(site, name="Halle")
    third = make_room(site, name="Drittel", parent=hall)
    elsewhere = make_room(make_site(), name="Woanders")
    login_as(make_user(manages=[site]))
    form = room_form(name="Halle", parent_id=str(third.id))
    response = client.post(f"/admin/rooms/{hall.id}/edit", data=form)
    assert response.status_code == 422
    assert 'id="parent_id-error"' in response.get_data(as_text=True)
    with pytest.raises(InvalidRequest) as caught:
        places.update_room(
            make_user(is_admin=True),
            hall.id,
            places.RoomCommand(name="Halle", capacity=30, parent_id=hall.id),
        )
    assert caught.value.code == "parent_cycle"
    with pytest.raises(InvalidRequest) as caught:
        places.update_room(
            make_user(is_admin=True),
            third.id,
            places.RoomCommand(name="Drittel", capacity=30, parent_id=elsewhere.id),
        )
    assert caught.value.code == "parent_other_site"
    db.session.expire_all()
    assert db.session.get(Room, hall.id).parent_id is None


def test_room_edit_tells_how_many_approved_dates_now_collide(
    client, db, make_site, make_room, make_user, make_booking, login_as
):
    site = make_site()
    room = make_room(site, name="Saal")
    manager = make_user(manages=[site])
    make_booking(manager, room, SOON, 60, now=datetime.now(UTC), title="Chor")
    make_booking(
        manager, room, SOON + timedelta(minutes=90), 60, now=datetime.now(UTC), title="Yoga"
    )
    make_booking(manager, room, SOON + timedelta(days=1), 60, now=datetime.now(UTC), title="Skat")
    login_as(manager)
    form = room_form(name="Saal", capacity="30", buffer_after_minutes="45", features=[])
    response = client.post(f"/admin/rooms/{room.id}/edit", data=form, follow_redirects=True)
    assert response.status_code == 200
    # German first: the message in the reader's language.
    html = response.get_data(as_text=True)
    assert "1 kommender bestätigter Termin überschneidet sich" in html
    # The message links to exactly the date that now collides (the first one: its new cleaning
    # time runs into the second), not to the others.
    link = f"/manage/bookings?site={site.id}&amp;collisions=y"
    assert link in html
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Chor" in listed and "Yoga" not in listed and "Skat" not in listed
    (row,) = audit_rows(db, "room_updated")
    assert row.details["changes"]["buffer_after_minutes"] == [0, 45]
    assert (row.site_id, row.room_id) == (site.id, room.id)


def test_room_validation_names_the_field(client, db, make_site, make_user, login_as):
    site = make_site()
    login_as(make_user(manages=[site]))
    response = client.post(
        f"/admin/sites/{site.id}/rooms/new",
        data=room_form(min_duration_minutes="120", max_duration_minutes="60"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#max_duration_minutes"' in html
    response = client.post(
        f"/admin/sites/{site.id}/rooms/new", data=room_form(buffer_before_minutes="5000")
    )
    assert response.status_code == 422
    assert 'id="buffer_before_minutes-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Room)) is None


def test_the_site_list_nests_parts_under_their_whole(
    client, make_site, make_room, make_user, login_as
):
    """A part named to sort before its whole still appears inside the whole's entry."""
    site = make_site()
    hall = make_room(site, name="Turnhalle")
    make_room(site, name="A-Drittel", parent=hall)
    make_room(site, name="Werkraum")
    login_as(make_user(manages=[site]))
    html = client.get("/admin").get_data(as_text=True)
    whole = html.index(">Turnhalle</a>")
    part = html.index(">A-Drittel</a>")
    other = html.index(">Werkraum</a>")
    assert whole < part < other  # the part comes inside the hall's entry, before the next room
    assert html.count(">A-Drittel</a>") == 1
    assert html[whole:part].count("<ul>") == 1  # one level deeper
