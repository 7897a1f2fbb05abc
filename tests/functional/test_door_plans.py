"""Plans for the door (#11): a site's day and week plan and a room's door sign, in the site's
wall time, for the site's managers only."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from booking import domain
from booking.extensions import db as _db
from booking.models import Booking, Occurrence, OccurrenceStatus
from booking.services import door_plans
from booking.services.errors import NotPermitted

BERLIN = ZoneInfo("Europe/Berlin")
# Summer time ends on Sunday 25 October 2026 at 03:00 CEST (01:00 UTC); that week has 169 hours.
DST_MONDAY = date(2026, 10, 19)
DST_SUNDAY = date(2026, 10, 25)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """Local wall time in Berlin as the stored UTC instant."""
    return domain.from_local(datetime(day.year, day.month, day.day, hh, mm), BERLIN)


@pytest.fixture
def add_date(db):
    """A booking with one date of the given status, written directly (no rules apply)."""

    def add(room, start, end, title, *, status=OccurrenceStatus.APPROVED, **kwargs):
        booking = Booking(room=room, title=title, **kwargs)
        booking.occurrences = [Occurrence(room=room, starts_at=start, ends_at=end, status=status)]
        db.session.add(booking)
        db.session.flush()
        return booking

    return add


@pytest.fixture
def scene(db, make_site, make_room, make_user, make_organisation, add_date):
    site = make_site(name="Bürgerhaus Nord", timezone="Europe/Berlin")
    other_site = make_site(name="Schule Süd")
    hall = make_room(site, name="Halle", buffer_before_minutes=30, buffer_after_minutes=15)
    third = make_room(site, name="Halle Drittel A", parent_id=hall.id)
    office = make_room(site, name="Büro")
    elsewhere = make_room(other_site, name="Fremde Aula")
    choir = make_organisation(name="Kammerchor")
    singer = make_user(name="Sängerin Sabine", email="sabine@example.org", organisations=[choir])
    manager = make_user(name="Hausmeister", manages=[site], language="en")
    other_manager = make_user(manages=[other_site], language="en")
    member = make_user(organisations=[choir], language="en")
    admin = make_user(is_admin=True, language="en")
    private = {"requested_by": singer, "organisation": choir, "is_public": False}
    # Across the DST change, all in local wall time.
    add_date(hall, at(DST_MONDAY, 0, 30), at(DST_MONDAY, 1, 30), "Nachtwache", **private)
    add_date(
        hall,
        at(DST_MONDAY, 18),
        at(DST_MONDAY, 20),
        "Geheime Chorprobe",
        attendees=24,
        **private,
    )
    # 02:30 on 25 October is the first (summer) 02:30; it ends at 03:30 winter time.
    add_date(hall, at(DST_SUNDAY, 2, 30), at(DST_SUNDAY, 3, 30), "Zeitumstellung", **private)
    add_date(hall, at(DST_SUNDAY, 23, 30), at(DST_SUNDAY, 23, 59), "Spät am Sonntag", **private)
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin: the next week.
    add_date(hall, at(date(2026, 10, 26), 0, 30), at(date(2026, 10, 26), 1), "Nächste Woche")
    add_date(office, at(DST_SUNDAY, 10), at(DST_SUNDAY, 11), "Sprechstunde", is_public=True)
    add_date(
        third,
        at(DST_SUNDAY, 14),
        at(DST_SUNDAY, 15),
        "Offene Anfrage",
        status=OccurrenceStatus.PENDING,
        **private,
    )
    add_date(
        third, at(DST_SUNDAY, 16), at(DST_SUNDAY, 17), "Abgesagt", status=OccurrenceStatus.CANCELLED
    )
    add_date(elsewhere, at(DST_SUNDAY, 10), at(DST_SUNDAY, 11), "Fremder Termin")
    _db.session.commit()
    return {
        "site": site,
        "other_site": other_site,
        "hall": hall,
        "third": third,
        "office": office,
        "manager": manager,
        "other_manager": other_manager,
        "member": member,
        "admin": admin,
    }


def plan_url(site, day: date | str, view: str = "day", **extra) -> str:
    day = day.isoformat() if isinstance(day, date) else day
    query = "&".join(f"{k}={v}" for k, v in {"date": day, "view": view, **extra}.items())
    return f"/manage/sites/{site.id}/plan?{query}"


def day_section(html: str, day: date) -> str:
    """The part of a week plan under one day's heading."""
    match = re.search(
        rf'<section class="plan-day" aria-labelledby="day-{day.isoformat()}">(.*?)</section>',
        html,
        re.S,
    )
    assert match, day
    return match.group(1)


def test_week_plan_puts_each_date_on_its_local_day_across_the_dst_change(client, login_as, scene):
    login_as(scene["manager"])
    response = client.get(plan_url(scene["site"], date(2026, 10, 22), "week"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Week plan: Bürgerhaus Nord" in html
    monday, sunday = day_section(html, DST_MONDAY), day_section(html, DST_SUNDAY)
    assert "Nachtwache" in monday and "00:30–01:30" in monday
    assert "Geheime Chorprobe" in monday and "18:00–20:00" in monday
    assert "Zeitumstellung" in sunday and "02:30–03:30" in sunday
    assert "Spät am Sonntag" in sunday and "23:30–23:59" in sunday
    assert "Sprechstunde" in sunday
    assert "Nächste Woche" not in html  # Monday 00:30 local, still Sunday in UTC
    assert "Fremder Termin" not in html  # another site
    assert "Abgesagt" not in html and "Offene Anfrage" not in html  # approved dates only
    assert "No bookings." in day_section(html, date(2026, 10, 21))


def test_week_plan_starts_on_monday_and_days_are_local(db, scene):
    plan = door_plans.site_plan(scene["manager"], scene["site"].id, date(2026, 10, 25), "week")
    assert plan.first_day == DST_MONDAY and plan.last_day == DST_SUNDAY
    by_day = {
        d.day: [e.title for r in d.rooms for e in r.entries] for d in plan.days if not d.is_empty
    }
    assert by_day == {
        DST_MONDAY: ["Nachtwache", "Geheime Chorprobe"],
        DST_SUNDAY: ["Sprechstunde", "Zeitumstellung", "Spät am Sonntag"],  # rooms by name
    }
    next_week = door_plans.site_plan(scene["manager"], scene["site"].id, date(2026, 10, 26), "week")
    assert [e.title for d in next_week.days for r in d.rooms for e in r.entries] == [
        "Nächste Woche"
    ]


def test_day_plan_shows_every_room_and_every_detail_to_the_manager(client, login_as, scene):
    login_as(scene["manager"])
    html = client.get(plan_url(scene["site"], DST_MONDAY)).get_data(as_text=True)
    assert "Day plan: Bürgerhaus Nord" in html
    for room in ("Halle", "Halle Drittel A", "Büro"):
        assert f"{room}\n" in html or f"{room} " in html
    assert html.count("No bookings.") == 2  # the third and the office
    # A private booking: title, organisation, contact person and e-mail, attendees, buffers.
    assert "Geheime Chorprobe" in html and "private" in html
    assert "Kammerchor" in html
    assert "Sängerin Sabine" in html and "mailto:sabine@example.org" in html
    assert '<td class="plan-number">24</td>' in html
    assert "Set-up from 17:30" in html and "Cleaning until 20:15" in html
    assert "Set-up from 00:00" in html and "Cleaning until 01:45" in html
    assert "PM" not in html  # 24-hour times
    # A GET form without JavaScript: date picker, day/week switch; a door sign per room.
    assert 'type="date"' in html and 'value="2026-10-19"' in html
    assert 'name="view"' in html and "<script" not in html
    assert f"/manage/rooms/{scene['office'].id}/door-sign?date=2026-10-19" in html
    assert "plans.css" in html


def test_pending_requests_are_marked_when_asked_for(client, login_as, scene):
    login_as(scene["manager"])
    html = client.get(plan_url(scene["site"], DST_SUNDAY, pending="y")).get_data(as_text=True)
    assert "Offene Anfrage" in html and "waiting for approval" in html
    assert "Abgesagt" not in html


def test_admin_sees_the_plan(client, login_as, scene):
    login_as(scene["admin"])
    response = client.get(plan_url(scene["site"], DST_MONDAY))
    assert response.status_code == 200
    assert "Geheime Chorprobe" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other_manager", "member"])
def test_others_are_refused_and_see_no_title(client, login_as, scene, who):
    login_as(scene[who])
    for url in (
        plan_url(scene["site"], DST_MONDAY),
        plan_url(scene["site"], DST_MONDAY, "week"),
        f"/manage/rooms/{scene['hall'].id}/door-sign?date={DST_MONDAY.isoformat()}",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        html = response.get_data(as_text=True)
        assert "Geheime Chorprobe" not in html and "Kammerchor" not in html


def test_the_service_checks_permission_itself(db, scene):
    with pytest.raises(NotPermitted):
        door_plans.site_plan(scene["other_manager"], scene["site"].id, DST_MONDAY)
    with pytest.raises(NotPermitted):
        door_plans.door_sign(None, scene["hall"].id, DST_MONDAY)


def test_anonymous_is_sent_to_login(client, scene):
    for url in (
        plan_url(scene["site"], DST_MONDAY),
        f"/manage/rooms/{scene['hall'].id}/door-sign?date={DST_MONDAY.isoformat()}",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "query",
    [
        "date=2026-13-01",
        "date=19.10.2026",
        "date=2026-10-19&view=month",
    ],
)
def test_bad_input_is_a_400_with_a_message(client, login_as, scene, query):
    login_as(scene["manager"])
    response = client.get(f"/manage/sites/{scene['site'].id}/plan?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "YYYY-MM-DD" in html or "a day or a week" in html
    sign = client.get(f"/manage/rooms/{scene['hall'].id}/door-sign?date=tomorrow")
    assert sign.status_code == 400


def test_unknown_site_or_room_is_404_for_an_admin(client, login_as, scene):
    login_as(scene["admin"])
    assert client.get("/manage/sites/999999/plan").status_code == 404
    assert client.get("/manage/rooms/999999/door-sign").status_code == 404


def test_without_a_date_the_plan_shows_today(client, login_as, scene):
    login_as(scene["manager"])
    response = client.get(f"/manage/sites/{scene['site'].id}/plan")
    assert response.status_code == 200
    assert "Day plan: Bürgerhaus Nord" in response.get_data(as_text=True)


def test_door_sign_lists_the_rooms_day(client, login_as, scene):
    login_as(scene["manager"])
    response = client.get(f"/manage/rooms/{scene['hall'].id}/door-sign?date=2026-10-25")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "02:30–03:30" in html and "23:30–23:59" in html
    # Private titles stay off the door: the sign hangs where everyone can read it.
    assert "Zeitumstellung" not in html and "Spät am Sonntag" not in html
    assert html.count("Booked") >= 2
    assert "Nachtwache" not in html  # another day
    assert "Nächste Woche" not in html  # Monday 00:30 local
    assert "Sprechstunde" not in html  # another room
    assert "Offene Anfrage" not in html  # pending, on a part of the hall


def test_door_sign_of_a_part_shows_the_whole_rooms_bookings(db, scene, add_date):
    add_date(scene["hall"], at(DST_SUNDAY, 12), at(DST_SUNDAY, 13), "Hallenfest", is_public=True)
    sign = door_plans.door_sign(scene["manager"], scene["third"].id, DST_SUNDAY)
    titles = [(e.title, e.room_name) for e in sign.entries]
    assert ("Hallenfest", "Halle") in titles
    assert all(t != "Sprechstunde" for t, _ in titles)


def test_a_plan_costs_the_same_few_statements_however_many_bookings(db, scene, add_date):
    def statements() -> int:
        count = 0

        def counter(*args):
            nonlocal count
            count += 1

        _db.session.commit()  # each measurement starts as a request does: a new transaction
        event.listen(_db.engine, "before_cursor_execute", counter)
        try:
            door_plans.site_plan(scene["manager"], scene["site"].id, DST_MONDAY, "week")
        finally:
            event.remove(_db.engine, "before_cursor_execute", counter)
        return count

    statements()  # the catalogue of this scene is loaded once (its managers changed its version)
    few = statements()
    for hour in range(8, 16):
        add_date(scene["office"], at(DST_MONDAY, hour), at(DST_MONDAY, hour, 30), f"Termin {hour}")
    _db.session.commit()
    assert statements() == few <= 6
