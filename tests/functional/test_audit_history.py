"""The audit history pages (#11): a site's managers read who changed what, when and why about
their bookings, rooms and sites; administrators read and filter everything; nobody else learns
anything about another site's bookings."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.models import ApprovalPolicy
from booking.services import decisions, places

START = (datetime.now(UTC) + timedelta(days=12)).replace(hour=15, minute=0, second=0, microsecond=0)
TITLE_X = "Chorprobe Vertraulich"
TITLE_Y = "Elternabend Vertraulich"
REASON = "Schlüssel beim Hausmeister abholen"


@dataclasses.dataclass
class World:
    site_x: object
    site_y: object
    room_x: object
    room_y: object
    booking_x: object
    booking_y: object
    manager_x: object
    manager_y: object
    admin: object
    member: object


@pytest.fixture
def world(db, make_site, make_room, make_user, make_organisation, make_booking) -> World:
    site_x = make_site(name="Realschule Nord", timezone="Europe/Berlin")
    site_y = make_site(name="Bibliothek Süd")
    room_x = make_room(site_x, name="Aula", capacity=30, approval_policy=ApprovalPolicy.MANUAL)
    room_y = make_room(site_y, name="Lesesaal", approval_policy=ApprovalPolicy.MANUAL)
    organisation = make_organisation(name="Chor Iserlohn")
    member = make_user(name="Mia Mitglied", organisations=[organisation], language="en")
    manager_x = make_user(name="Hanna Hausmeisterin", manages=[site_x], language="en")
    manager_y = make_user(name="Yusuf Verwalter", manages=[site_y], language="en")
    admin = make_user(name="Ada Admin", is_admin=True, language="en")
    booking_x = make_booking(member, room_x, START, title=TITLE_X, organisation_id=organisation.id)
    booking_y = make_booking(member, room_y, START, title=TITLE_Y, organisation_id=organisation.id)
    # Real changes through the services: an approval with a reason, a room's capacity, hours.
    decisions.approve(manager_x, booking_x.id, comment=REASON)
    places.update_room(
        manager_x, room_x.id, dataclasses.replace(places.room_command(room_x), capacity=12)
    )
    places.set_opening_hours(manager_x, site_x.id, None, [(0, 16 * 60, 22 * 60)])
    decisions.decline(manager_y, booking_y.id, "Lesesaal wird renoviert")
    db.session.commit()
    return World(
        site_x, site_y, room_x, room_y, booking_x, booking_y, manager_x, manager_y, admin, member
    )


def text(response) -> str:
    """The page's visible text, tags removed and white space collapsed."""
    return text_of(response.get_data(as_text=True))


def entries(response) -> str:
    """The text of the listed events only (not of the filter form's choices)."""
    body = response.get_data(as_text=True)
    match = re.search(r'<ol class="history[^"]*">(.*?)</ol>', body, re.S)
    return text_of(match.group(1)) if match else ""


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_manager_reads_who_approved_their_booking_when_and_why(client, world, login_as):
    login_as(world.manager_x)
    response = client.get(f"/manage/bookings/{world.booking_x.id}/history")
    assert response.status_code == 200
    page = text(response)
    assert f"History of “{TITLE_X}”" in page
    assert "Dates approved" in page
    assert "by Hanna Hausmeisterin" in page
    assert REASON in page
    assert "Booking requested" in page
    assert "by Mia Mitglied" in page
    # Newest first: the approval above the request.
    assert page.index("Dates approved") < page.index("Booking requested")


def test_a_rooms_history_shows_the_capacity_change_as_old_and_new(client, world, login_as):
    login_as(world.manager_x)
    response = client.get(f"/admin/rooms/{world.room_x.id}/history")
    assert response.status_code == 200
    page = text(response)
    assert "Room changed" in page
    assert re.search(r"Capacity[^:]*: 30 → changed to 12", page), page
    # The room's bookings are part of its history, with their titles for the manager.
    assert TITLE_X in page
    # The site's opening hours are the site's history, not the room's.
    assert "Opening hours set" not in page


def test_a_sites_history_shows_opening_hours_in_words(client, world, login_as):
    login_as(world.manager_x)
    response = client.get(f"/admin/sites/{world.site_x.id}/history")
    assert response.status_code == 200
    page = text(response)
    assert "Opening hours set" in page
    assert "Monday 16:00–22:00" in page
    assert "Room changed" in page and "Dates approved" in page
    # Nothing of the other site.
    assert TITLE_Y not in page and "Lesesaal" not in page and "Yusuf" not in page


def test_times_are_shown_in_the_sites_zone(client, db, world, login_as):
    from booking.models import AuditEvent

    event = db.session.query(AuditEvent).filter_by(action="opening_hours_set").one()
    event.created_at = datetime(2026, 7, 1, 20, 30, tzinfo=UTC)  # 22:30 in Berlin (summer)
    db.session.commit()
    login_as(world.manager_x)
    page = text(client.get(f"/admin/sites/{world.site_x.id}/history"))
    assert "1 Jul 2026, 22:30" in page  # en (en-GB): day-month, 24-hour clock
    assert "PM" not in page


def test_a_manager_of_another_site_learns_nothing(client, world, login_as):
    login_as(world.manager_y)
    booking = client.get(f"/manage/bookings/{world.booking_x.id}/history")
    room = client.get(f"/admin/rooms/{world.room_x.id}/history")
    site = client.get(f"/admin/sites/{world.site_x.id}/history")
    everything = client.get("/admin/audit")
    assert (booking.status_code, room.status_code, site.status_code) == (404, 403, 403)
    assert everything.status_code == 403
    for response in (booking, room, site, everything):
        body = response.get_data(as_text=True)
        assert TITLE_X not in body
        assert REASON not in body
        assert "Hanna" not in body


def test_a_requester_reads_their_own_bookings_history_only(client, world, login_as):
    login_as(world.member)
    response = client.get(f"/manage/bookings/{world.booking_x.id}/history")
    assert response.status_code == 200
    page = text(response)
    assert "Dates approved" in page and REASON in page
    # Only the booking's events: not the room's capacity or the site's hours.
    assert "Room changed" not in page and "Opening hours set" not in page
    assert client.get(f"/admin/rooms/{world.room_x.id}/history").status_code == 403


def test_unknown_subjects_are_404(client, world, login_as):
    login_as(world.admin)
    assert client.get("/admin/rooms/999999/history").status_code == 404
    assert client.get("/admin/sites/999999/history").status_code == 404
    assert client.get("/manage/bookings/999999/history").status_code == 404


def test_the_admin_reads_everything_and_filters(client, world, login_as):
    login_as(world.admin)
    everything = entries(client.get("/admin/audit"))
    assert TITLE_X in everything and TITLE_Y in everything
    assert "Lesesaal wird renoviert" in everything

    by_site = entries(client.get(f"/admin/audit?site={world.site_y.id}"))
    assert TITLE_Y in by_site and TITLE_X not in by_site

    by_room = entries(client.get(f"/admin/audit?room={world.room_x.id}&action=room_updated"))
    assert "Room changed" in by_room
    assert "Dates approved" not in by_room and TITLE_X not in by_room

    by_actor = entries(client.get(f"/admin/audit?actor={world.manager_y.email.upper()}"))
    assert "Dates declined" in by_actor
    assert "Dates approved" not in by_actor and "Room changed" not in by_actor

    # The filter's dates are the city's (Berlin) days, which differ from UTC's around midnight.
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    in_range = entries(
        client.get(f"/admin/audit?since={today - timedelta(days=1)}&until={today}&action=approved")
    )
    assert "Dates approved" in in_range
    past = text(client.get("/admin/audit?since=2020-01-01&until=2020-01-31"))
    assert "No changes match these filters." in past
    assert "0 entries" in past


def test_the_admins_list_is_paged(client, db, world, login_as):
    from booking.services import audit

    for n in range(55):
        audit.record("room_updated", world.admin, site_id=world.site_x.id, changes={"n": [n, n]})
    db.session.commit()
    login_as(world.admin)
    first = client.get("/admin/audit")
    assert "Page 1 of 2" in text(first)
    assert 'rel="next"' in first.get_data(as_text=True)
    second = text(client.get("/admin/audit?page=2"))
    assert "Page 2 of 2" in second
    assert "Booking requested" in second  # the oldest events are on the last page
    assert client.get("/admin/audit?page=nope").status_code == 400


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=2026-13-45", "since", "Not a valid date value."),
        ("since=2026-05-02&until=2026-05-01", "until", "The end must not be before the start."),
        ("site=424242", "site", "Not a valid choice."),
        ("action=no_such_thing", "action", "Not a valid choice."),
    ],
)
def test_bad_filters_are_422_next_to_the_field(client, world, login_as, query, field, message):
    login_as(world.admin)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    assert message in body
    assert f'aria-describedby="{field}-error"' in body


def test_unknown_actions_read_sensibly(client, db, world, login_as):
    from booking.services import audit

    audit.record(
        "holiday_rule_tweaked",
        world.admin,
        site_id=world.site_x.id,
        reason="Ferienkalender 2027",
        changes={"school_days_only": [False, True]},
        count=3,
    )
    db.session.commit()
    login_as(world.manager_x)
    page = text(client.get(f"/admin/sites/{world.site_x.id}/history"))
    assert "Holiday rule tweaked" in page
    assert "by Ada Admin" in page
    assert "School days only: no → changed to yes" in page
    assert "Number: 3" in page
    assert "Ferienkalender 2027" in page


def test_events_without_an_actor_are_the_systems(client, db, world, login_as):
    from booking.services import audit

    audit.record("closures_imported", None, site_id=world.site_x.id, count=12)
    db.session.commit()
    login_as(world.manager_x)
    page = text(client.get(f"/admin/sites/{world.site_x.id}/history"))
    assert "Closures imported" in page and "by the system" in page


def test_the_manager_pages_link_to_the_histories(client, world, login_as, make_booking, make_room):
    always_open = make_room(
        world.site_x,
        hours=[(day, 0, 1440) for day in range(7)],
        approval_policy=ApprovalPolicy.MANUAL,
    )
    pending = make_booking(world.member, always_open, START, title="Neue Anfrage")
    login_as(world.manager_x)
    requests = client.get("/manage/requests").get_data(as_text=True)
    assert f"/manage/bookings/{pending.id}/history" in requests
    bookings = client.get("/manage/bookings").get_data(as_text=True)
    assert f"/manage/bookings/{world.booking_x.id}/history" in bookings
    admin = client.get("/admin").get_data(as_text=True)
    assert f"/admin/sites/{world.site_x.id}/history" in admin
    assert f"/admin/rooms/{world.room_x.id}/history" in admin
    assert "/admin/audit" not in admin  # the whole history is for administrators
    room_form = client.get(f"/admin/rooms/{world.room_x.id}/edit").get_data(as_text=True)
    assert f"/admin/rooms/{world.room_x.id}/history" in room_form
    site_form = client.get(f"/admin/sites/{world.site_x.id}/edit").get_data(as_text=True)
    assert f"/admin/sites/{world.site_x.id}/history" in site_form


def test_a_closure_reads_in_the_sites_zone_without_internal_ids(client, db, world, login_as):
    from booking.services import audit

    audit.record(
        "closure_created",
        world.manager_x,
        site_id=world.site_x.id,
        room_id=world.room_x.id,
        reason="Renovierung",
        closure_id=4711,
        starts_at="2026-12-23T23:00:00+00:00",
        ends_at="2026-12-27T23:00:00+00:00",
    )
    db.session.commit()
    login_as(world.manager_x)
    page = entries(client.get(f"/admin/rooms/{world.room_x.id}/history"))
    assert "Closure added" in page and "Renovierung" in page
    assert "From: 24 Dec 2026 00:00" in page  # midnight in Berlin
    assert "Until: 28 Dec 2026 00:00" in page
    assert "4711" not in page
