"""Opening hours (#11): a site's week in one form, quick to fill in with school hours, a room's
own hours overriding the site's, and the upcoming approved dates that now lie outside counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.models import AuditEvent, OccurrenceStatus, OpeningWindow
from booking.services import places
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import Conflict, InvalidRequest, NotPermitted

BERLIN = ZoneInfo("Europe/Berlin")
SCHOOL = [(d, 960, 1320) for d in range(5)] + [(5, 540, 1080)]


def _next(weekday: int, hour: int) -> datetime:
    """A local time on the given weekday some five weeks ahead, in UTC."""
    day = datetime.now(BERLIN).date() + timedelta(days=35)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


SUNDAY_NOON = _next(6, 12)
MONDAY_EVENING = _next(0, 18)


def _book(user, room, start: datetime):
    command = BookingCommand(
        room_id=room.id,
        title="Probe",
        start=start,
        end=start + timedelta(hours=1),
        house_rules_accepted=True,
    )
    return request_booking(user, command)


def _windows(db, site, room=None) -> list[tuple[int, int, int]]:
    db.session.expire_all()
    owner = OpeningWindow.room_id.is_(None) if room is None else OpeningWindow.room_id == room.id
    rows = db.session.scalars(
        select(OpeningWindow)
        .where(OpeningWindow.site_id == site.id, owner)
        .order_by(OpeningWindow.weekday, OpeningWindow.opens)
    )
    return [(w.weekday, w.opens, w.closes) for w in rows]


def _form(windows) -> dict[str, str]:
    """The week's form as a browser posts it: empty fields for closed windows."""
    data = {"save": "1"}
    names = ("day{d}", "day{d}_until", "day{d}_from2", "day{d}_until2")
    for day in range(7):
        for name in names:
            data[name.format(d=day)] = ""
    seen: dict[int, int] = {}
    for weekday, opens, closes in windows:
        i = seen.get(weekday, 0)
        seen[weekday] = i + 1
        for name, minutes in ((names[2 * i], opens), (names[2 * i + 1], closes)):
            data[name.format(d=weekday)] = f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
    return data


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_manager_fills_in_school_hours_and_requests_outside_are_refused(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site(name="Gesamtschule")
    room = make_room(site, name="Aula")
    manager = login_as(make_user(manages=[site]))
    page = client.get(f"/admin/sites/{site.id}/opening-hours")
    assert page.status_code == 200
    assert 'type="time"' in page.get_data(as_text=True)
    assert f"/admin/sites/{site.id}/opening-hours" in client.get("/admin").get_data(as_text=True)
    assert f"/admin/rooms/{room.id}/opening-hours" in client.get("/admin").get_data(as_text=True)

    filled = client.post(f"/admin/sites/{site.id}/opening-hours", data={"school": "1"})
    assert filled.status_code == 200
    html = filled.get_data(as_text=True)
    assert 'name="day0" type="time" value="16:00"' in html
    assert 'name="day5_until" type="time" value="18:00"' in html
    assert _windows(db, site) == []  # filled in, not saved

    saved = client.post(f"/admin/sites/{site.id}/opening-hours", data=_form(SCHOOL))
    assert saved.status_code == 302
    assert _windows(db, site) == SCHOOL
    html = client.get(f"/admin/sites/{site.id}/opening-hours").get_data(as_text=True)
    assert 'name="day4_until" type="time" value="22:00"' in html

    with pytest.raises(Conflict) as refused:
        _book(manager, room, SUNDAY_NOON)
    assert refused.value.dates[0].reasons == ["outside_opening_hours"]
    db.session.rollback()
    booking = _book(manager, room, MONDAY_EVENING)
    assert booking.occurrences[0].status is OccurrenceStatus.APPROVED


def test_audit_row_names_the_windows(client, db, make_site, make_user, login_as):
    site = make_site()
    manager = login_as(make_user(manages=[site]))
    week = [(0, 480, 720), (0, 780, 1440), (6, 600, 660)]
    assert client.post(f"/admin/sites/{site.id}/opening-hours", data=_form(week)).status_code == 302
    assert _windows(db, site) == week  # "until 00:00" is midnight at the end of the day
    (row,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "opening_hours_set"))
    assert row.actor_id == manager.id and row.booking_id is None
    assert (row.site_id, row.room_id) == (site.id, None)
    assert row.details == {"windows": [list(w) for w in week]}


def test_room_override_applies_to_that_room_only_and_removing_it_restores_the_site(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site()
    aula, gym = make_room(site, name="Aula"), make_room(site, name="Turnhalle")
    manager = login_as(make_user(manages=[site]))
    client.post(f"/admin/sites/{site.id}/opening-hours", data=_form(SCHOOL))
    sundays = [(6, 600, 1200)]
    response = client.post(f"/admin/rooms/{aula.id}/opening-hours", data=_form(sundays))
    assert response.status_code == 302
    assert _windows(db, site, aula) == sundays
    assert _windows(db, site) == SCHOOL

    _book(manager, aula, SUNDAY_NOON)  # the override: open on Sunday
    db.session.commit()
    with pytest.raises(Conflict):
        _book(manager, gym, SUNDAY_NOON)  # the site's hours: closed on Sunday
    db.session.rollback()
    with pytest.raises(Conflict):
        _book(manager, aula, MONDAY_EVENING)  # the override replaces the site's hours
    db.session.rollback()

    removed = client.post(f"/admin/rooms/{aula.id}/opening-hours", data=_form([]))
    assert removed.status_code == 302
    assert _windows(db, site, aula) == []
    assert _windows(db, site) == SCHOOL
    assert _flashes(client)[-1][0] == "warning"  # the approved Sunday date is outside again
    _book(manager, aula, MONDAY_EVENING)
    db.session.rollback()


def test_overlapping_windows_are_shown_next_to_the_day(client, db, make_site, make_user, login_as):
    site = make_site()
    login_as(make_user(manages=[site]))
    data = _form([(2, 600, 900), (2, 840, 1000)])
    response = client.post(f"/admin/sites/{site.id}/opening-hours", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="day2-error"' in html
    assert _windows(db, site) == []
    half = _form([]) | {"day3": "10:00"}
    response = client.post(f"/admin/sites/{site.id}/opening-hours", data=half)
    assert response.status_code == 422
    assert 'id="day3_until-error"' in response.get_data(as_text=True)


def test_another_sites_manager_may_not(client, db, make_site, make_room, make_user, login_as):
    site, other = make_site(), make_site()
    room = make_room(site)
    login_as(make_user(manages=[other]))
    assert client.get(f"/admin/sites/{site.id}/opening-hours").status_code == 403
    post = client.post(f"/admin/sites/{site.id}/opening-hours", data=_form(SCHOOL))
    assert post.status_code == 403
    assert client.post(f"/admin/rooms/{room.id}/opening-hours", data=_form([])).status_code == 403
    assert _windows(db, site) == []
    assert not db.session.scalars(select(AuditEvent)).all()


def test_upcoming_approved_dates_outside_the_new_hours_are_counted(
    client, db, make_site, make_room, make_user, login_as
):
    site = make_site()
    room = make_room(site)
    manager = login_as(make_user(manages=[site]))
    _book(manager, room, SUNDAY_NOON)
    _book(manager, room, SUNDAY_NOON + timedelta(days=7))
    _book(manager, room, MONDAY_EVENING)
    db.session.commit()
    response = client.post(f"/admin/sites/{site.id}/opening-hours", data=_form(SCHOOL))
    assert response.status_code == 302
    (saved_flash, warning) = _flashes(client)[-2:]
    assert saved_flash[0] == "success" and warning[0] == "warning"
    assert "2" in warning[1]
    # The service reports the same count and changes nothing about the dates.
    saved = places.set_opening_hours(manager, site.id, None, SCHOOL)
    assert saved.outside == 2 and saved.windows == SCHOOL
    # Opening every day all day: none outside, so no warning.
    saved = places.set_opening_hours(manager, site.id, None, [(d, 0, 1440) for d in range(7)])
    assert saved.outside == 0


def test_service_validates_windows(db, make_site, make_room, make_user):
    site, other = make_site(), make_site()
    foreign = make_room(other)
    manager = make_user(manages=[site])
    cases = [
        ([(7, 60, 120)], "windows", "weekday_out_of_range"),
        ([(1, 600, 600)], "day1", "window_reversed"),
        ([(1, 600, 1441)], "day1", "window_reversed"),
        ([(4, 600, 700), (4, 650, 800)], "day4", "windows_overlap"),
    ]
    for windows, field, code in cases:
        with pytest.raises(InvalidRequest) as refused:
            places.set_opening_hours(manager, site.id, None, windows)
        assert (refused.value.field, refused.value.code) == (field, code)
    with pytest.raises(InvalidRequest) as refused:
        places.set_opening_hours(manager, site.id, foreign.id, [])
    assert refused.value.code == "room_not_at_site"
    with pytest.raises(NotPermitted):
        places.set_opening_hours(manager, other.id, None, [])
    # Touching windows are fine (they join).
    saved = places.set_opening_hours(manager, site.id, None, [(4, 600, 700), (4, 700, 800)])
    assert saved.windows == [(4, 600, 700), (4, 700, 800)]
