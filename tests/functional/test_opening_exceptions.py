"""Dated exceptions to the opening hours (#11): a short Christmas Eve, a closed day, a room's
own exception over the site's, deleting one restores the week; refusals next to the field."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from booking import domain
from booking.models import AuditEvent, OccurrenceStatus, OpeningException, OpeningWindow
from booking.services import catalogue, places, search
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import Conflict, NotPermitted

BERLIN = ZoneInfo("Europe/Berlin")
SCHOOL = [(d, 960, 1320) for d in range(5)] + [(5, 540, 1080)]  # Mon-Fri 16-22, Sat 9-18


def _christmas_eve() -> date:
    today = datetime.now(BERLIN).date()
    eve = date(today.year, 12, 24)
    return eve if eve > today + timedelta(days=1) else date(today.year + 1, 12, 24)


def _weekday_ahead(weekday: int) -> date:
    day = datetime.now(BERLIN).date() + timedelta(days=21)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


def _book(user, room, day: date, hour: int, hours: int = 1):
    command = BookingCommand(
        room_id=room.id,
        title="Probe",
        start=_at(day, hour),
        end=_at(day, hour) + timedelta(hours=hours),
        house_rules_accepted=True,
    )
    return request_booking(user, command)


def _refused(db, user, room, day: date, hour: int) -> list[str]:
    with pytest.raises(Conflict) as refused:
        _book(user, room, day, hour)
    db.session.rollback()
    return refused.value.dates[0].reasons


def _week(db, site, windows, room=None) -> None:
    for weekday, opens, closes in windows:
        db.session.add(
            OpeningWindow(
                site_id=site.id,
                room_id=None if room is None else room.id,
                weekday=weekday,
                opens=opens,
                closes=closes,
            )
        )
    db.session.commit()


def _form(day: date, opens: str = "", closes: str = "", *, closed=False, reason="") -> dict:
    data = {
        "exception-day": day.isoformat(),
        "exception-opens": opens,
        "exception-closes": closes,
        "exception-reason": reason,
    }
    if closed:
        data["exception-closed"] = "y"
    return data


def _stored(db, site, room=None) -> list[tuple[date, int | None, int | None, str]]:
    db.session.expire_all()
    owner = (
        OpeningException.room_id.is_(None) if room is None else OpeningException.room_id == room.id
    )
    rows = db.session.scalars(
        select(OpeningException)
        .where(OpeningException.site_id == site.id, owner)
        .order_by(OpeningException.day)
    )
    return [(r.day, r.opens, r.closes, r.reason) for r in rows]


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_a_short_christmas_eve_refuses_the_evening_and_takes_the_morning(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site(name="Gesamtschule")
    room = make_room(site, name="Aula")
    _week(db, site, SCHOOL)
    manager = login_as(make_user(manages=[site]))
    eve = _christmas_eve()
    catalogue.current()  # a snapshot without the exception, which the change must replace
    if eve.weekday() < 5:
        _book(manager, room, eve, 18)  # a school evening as usual
        db.session.rollback()

    page = client.get(f"/admin/sites/{site.id}/opening-hours")
    assert page.status_code == 200
    assert 'id="exception-list"' not in page.get_data(as_text=True)
    response = client.post(
        f"/admin/sites/{site.id}/opening-hours/exceptions",
        data=_form(eve, "09:00", "12:00", reason="Heiligabend"),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/sites/{site.id}/opening-hours#exceptions")
    assert _stored(db, site) == [(eve, 540, 720, "Heiligabend")]
    html = client.get(f"/admin/sites/{site.id}/opening-hours").get_data(as_text=True)
    assert "09:00–12:00" in html and "Heiligabend" in html
    assert _refused(db, manager, room, eve, 18) == ["outside_opening_hours"]
    morning = _book(manager, room, eve, 10)  # outside the school week, inside the exception
    assert morning.occurrences[0].status is OccurrenceStatus.APPROVED
    db.session.rollback()
    # The week before and after keeps its usual hours.
    assert _refused(db, manager, room, eve - timedelta(days=7), 10) == ["outside_opening_hours"]

    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "opening_exception_set")
    )
    assert event.actor_id == manager.id
    assert (event.site_id, event.room_id, event.reason) == (site.id, None, "Heiligabend")
    assert event.details == {"day": eve.isoformat(), "opens": "09:00", "closes": "12:00"}


def test_a_closed_day_refuses_everything_that_day_only(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site()
    room = make_room(site)  # no weekly hours: open at any time
    manager = login_as(make_user(manages=[site]))
    election = _weekday_ahead(6)
    response = client.post(
        f"/admin/sites/{site.id}/opening-hours/exceptions",
        data=_form(election, closed=True, reason="Wahllokal"),
    )
    assert response.status_code == 302
    assert _stored(db, site) == [(election, None, None, "Wahllokal")]
    html = client.get(f"/admin/sites/{site.id}/opening-hours").get_data(as_text=True)
    (shown,) = re.findall(r'<li class="card" id="exception-\d+">(.*?)</li>', html, re.S)
    assert "Wahllokal" in shown and not re.search(r"\d\d:\d\d", shown)  # no hours: closed
    for hour in (0, 10, 23):
        assert _refused(db, manager, room, election, hour) == ["outside_opening_hours"]
    _book(manager, room, election + timedelta(days=1), 10)
    _book(manager, room, election - timedelta(days=1), 22, hours=2)  # until midnight
    db.session.rollback()
    # The same date again replaces the exception: one row, the new hours.
    client.post(
        f"/admin/sites/{site.id}/opening-hours/exceptions",
        data=_form(election, "14:00", "18:00", reason="Wahllokal bis 14 Uhr"),
    )
    assert _stored(db, site) == [(election, 840, 1080, "Wahllokal bis 14 Uhr")]
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.action, last.reason) == ("opening_exception_set", "Wahllokal bis 14 Uhr")
    assert last.details == {
        "day": election.isoformat(),
        "opens": "14:00",
        "closes": "18:00",
        "previous": {"opens": None, "closes": None, "reason": "Wahllokal"},
    }
    _book(manager, room, election, 15)
    db.session.rollback()


def test_a_rooms_own_exception_overrides_the_sites(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site()
    hall = make_room(site, name="Halle")
    gym = make_room(site, name="Turnhalle", hours=[(d, 8 * 60, 22 * 60) for d in range(7)])
    other = make_room(site, name="Werkraum")
    db.session.commit()
    manager = login_as(make_user(manages=[site]))
    day = _weekday_ahead(2)
    site_url = f"/admin/sites/{site.id}/opening-hours/exceptions"
    assert client.post(site_url, data=_form(day, closed=True, reason="Umzug")).status_code == 302
    hall_url = f"/admin/rooms/{hall.id}/opening-hours/exceptions"
    response = client.post(hall_url, data=_form(day, "10:00", "14:00", reason="Ausstellung"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/rooms/{hall.id}/opening-hours#exceptions")
    assert _stored(db, site, hall) == [(day, 600, 840, "Ausstellung")]
    html = client.get(f"/admin/rooms/{hall.id}/opening-hours").get_data(as_text=True)
    assert "Ausstellung" in html and "Umzug" not in html
    # The gym's page shows the site's exception that reaches it.
    html = client.get(f"/admin/rooms/{gym.id}/opening-hours").get_data(as_text=True)
    assert "Umzug" in html and f"/admin/sites/{site.id}/opening-hours#exceptions" in html

    _book(manager, hall, day, 11)  # the room's own exception
    db.session.rollback()
    assert _refused(db, manager, hall, day, 15) == ["outside_opening_hours"]
    # A room with weekly hours of its own still follows the site's exception.
    assert _refused(db, manager, gym, day, 11) == ["outside_opening_hours"]
    assert _refused(db, manager, other, day, 11) == ["outside_opening_hours"]
    _book(manager, gym, day + timedelta(days=1), 11)
    db.session.rollback()


def test_deleting_an_exception_restores_the_week(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site()
    room = make_room(site)
    _week(db, site, SCHOOL)
    manager = login_as(make_user(manages=[site]))
    day = _weekday_ahead(0)
    client.post(f"/admin/sites/{site.id}/opening-hours/exceptions", data=_form(day, closed=True))
    assert _refused(db, manager, room, day, 18) == ["outside_opening_hours"]
    (row_id,) = db.session.scalars(select(OpeningException.id))

    page = client.get(f"/admin/sites/{site.id}/opening-hours").get_data(as_text=True)
    assert f"/admin/opening-exceptions/{row_id}/delete" in page
    response = client.post(f"/admin/opening-exceptions/{row_id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/sites/{site.id}/opening-hours#exceptions")
    assert _stored(db, site) == []
    assert _book(manager, room, day, 18).occurrences[0].status is OccurrenceStatus.APPROVED
    db.session.rollback()
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "opening_exception_deleted")
    )
    assert (event.site_id, event.room_id, event.actor_id) == (site.id, None, manager.id)
    assert event.details == {"day": day.isoformat(), "opens": None, "closes": None}
    assert client.post(f"/admin/opening-exceptions/{row_id}/delete").status_code == 404


def test_approved_dates_outside_the_new_hours_are_counted(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site()
    room = make_room(site)
    manager = login_as(make_user(manages=[site]))
    day = _weekday_ahead(4)
    _book(manager, room, day, 19)
    _book(manager, room, day, 9)
    db.session.commit()
    response = client.post(
        f"/admin/sites/{site.id}/opening-hours/exceptions", data=_form(day, "08:00", "14:00")
    )
    assert response.status_code == 302
    saved_flash, warning = _flashes(client)[-2:]
    assert saved_flash[0] == "success" and warning[0] == "warning"
    assert warning[1].startswith("1 ")  # one date: the evening one
    # Nothing approved was changed.
    saved = places.set_opening_exception(
        manager, site.id, None, places.ExceptionCommand(day, 480, 840)
    )
    assert saved.outside == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (lambda d: _form(d, "14:00", "10:00"), "closes"),
        (lambda d: _form(d, "14:00", ""), "closes"),
        (lambda d: _form(d, "", "14:00"), "opens"),
        (lambda d: _form(d - timedelta(days=60), closed=True), "day"),
        (lambda d: _form(d, closed=True) | {"exception-day": "24.12."}, "day"),
        (lambda d: _form(d, closed=True, reason="x" * 201), "reason"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(
    client, db, make_site, make_user, login_as, data, field
):
    site = make_site()
    login_as(make_user(manages=[site]))
    _week(db, site, SCHOOL)
    response = client.post(
        f"/admin/sites/{site.id}/opening-hours/exceptions", data=data(_weekday_ahead(3))
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="exception-{field}-error"' in html
    assert f'href="#exception-{field}"' in html  # the summary links to the field
    assert 'name="day0" type="time" value="16:00"' in html  # the week as it is saved
    assert _stored(db, site) == []
    assert not db.session.scalars(select(AuditEvent)).all()


def test_another_sites_manager_may_not(client, db, make_site, make_room, make_user, login_as):
    site, other = make_site(), make_site()
    room = make_room(site)
    owner = make_user(manages=[site])
    day = _weekday_ahead(1)
    saved = places.set_opening_exception(
        owner, site.id, None, places.ExceptionCommand(day, reason="Putztag")
    )
    db.session.commit()
    (row,) = saved.exceptions
    stranger = login_as(make_user(manages=[other]))
    for url in (
        f"/admin/sites/{site.id}/opening-hours/exceptions",
        f"/admin/rooms/{room.id}/opening-hours/exceptions",
        f"/admin/opening-exceptions/{row.id}/delete",
    ):
        assert client.post(url, data=_form(day, closed=True)).status_code == 403
    with pytest.raises(NotPermitted):
        places.set_opening_exception(stranger, site.id, None, places.ExceptionCommand(day))
    db.session.rollback()
    assert _stored(db, site) == [(day, None, None, "Putztag")]
    assert _stored(db, site, room) == []
    actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert actions == ["opening_exception_set"]


def test_search_and_availability_follow_exceptions_whoever_writes_them(db, make_site, make_room):
    site = make_site()
    room = make_room(site, name="Aula")
    other = make_room(make_site(), name="Werkraum")
    db.session.commit()
    day = _weekday_ahead(1)
    evening = search.RoomQuery(
        start=datetime(day.year, day.month, day.day, 18),
        end=datetime(day.year, day.month, day.day, 20),
    )

    def found() -> list[str]:
        return sorted(m.room.name for m in search.search_rooms(evening, zone=BERLIN))

    whole_day = domain.Slot(_at(day, 0), _at(day + timedelta(days=1), 0))
    assert found() == ["Aula", "Werkraum"]
    # As a caretaker's script or a database console would: no ORM, the trigger tells the cache.
    db.session.execute(
        text(
            "INSERT INTO opening_exception (site_id, day, opens, closes, reason)"
            " VALUES (:site, :day, 540, 720, 'Betriebsausflug')"
        ),
        {"site": site.id, "day": day},
    )
    db.session.commit()
    assert found() == ["Werkraum"]
    assert search.room_availability(room, whole_day).free == [
        domain.Slot(_at(day, 9), _at(day, 12))
    ]
    assert search.room_availability(other, whole_day).free == [whole_day]
    db.session.execute(
        text("UPDATE opening_exception SET closes = 1440 WHERE site_id = :site"),
        {"site": site.id},
    )
    db.session.commit()
    assert found() == ["Aula", "Werkraum"]
    db.session.execute(text("DELETE FROM opening_exception"))
    db.session.commit()
    assert search.room_availability(room, whole_day).free == [whole_day]
