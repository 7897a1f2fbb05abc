"""The room and site pages for the site's managers (#11): who booked each time and the requests
waiting for approval; everyone else still sees "occupied" for private bookings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.models import ApprovalPolicy, OccurrenceStatus, User
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"Accept-Language": "en"}
PRIVATE = "Vorstandssitzung Geheim"
PENDING = "Wartende Chorprobe"
PUBLIC = "Offenes Erzählcafé"
REQUESTER = "Erika Anfragende"
ORGANISATION = "Heimatverein Drüpplingsen"


def _next_monday() -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=1)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def _iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@pytest.fixture
def week(db, make_site, make_room, make_user, make_organisation, make_booking):
    """Site X's room next week: an approved private booking, an approved public one and a
    pending request; a hall with a third whose request shows on the whole as well."""
    site_x, site_y = make_site(name="Grundschule X"), make_site(name="Realschule Y")
    hall = make_room(site_x, name="Turnhalle")
    third = make_room(site_x, name="Hallendrittel", parent=hall)
    organisation = make_organisation(name=ORGANISATION)
    requester = make_user(name=REQUESTER, organisations=[organisation])
    monday = _next_monday()
    wednesday = monday + timedelta(days=2)
    private = make_booking(
        requester, hall, _at(wednesday, 18), organisation_id=organisation.id, title=PRIVATE
    )
    public = make_booking(requester, hall, _at(wednesday, 10), title=PUBLIC, is_public=True)
    hall.approval_policy = third.approval_policy = ApprovalPolicy.MANUAL
    db.session.flush()
    pending = make_booking(
        requester, third, _at(wednesday, 14), organisation_id=organisation.id, title=PENDING
    )
    assert {o.status for o in private.occurrences + public.occurrences} == {
        OccurrenceStatus.APPROVED
    }
    assert pending.occurrences[0].status is OccurrenceStatus.PENDING
    users = {
        "manager_x": make_user(manages=[site_x], language="en"),
        "admin": make_user(is_admin=True, language="en"),
        "manager_y": make_user(manages=[site_y], language="en"),
        "other_member": make_user(organisations=[make_organisation()], language="en"),
    }
    db.session.commit()
    return {"site": site_x, "hall": hall, "third": third, "monday": monday, "users": users}


def _room_page(client, login_as, week, role: str | None, room: str = "hall") -> str:
    if role is not None:
        login_as(week["users"][role])
    response = client.get(f"/rooms/{week[room].id}?week={_iso_week(week['monday'])}", headers=EN)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("role", ["manager_x", "admin"])
def test_the_sites_managers_see_who_booked_and_the_requests(client, login_as, week, role):
    html = _room_page(client, login_as, week, role)
    for text in (PRIVATE, ORGANISATION, f"requested by {REQUESTER}", PENDING, PUBLIC):
        assert text in html, text
    assert html.count('class="slot pending"') == 1  # the third's request, shown on the whole
    assert ">pending</span>" in html  # said in words, not only by colour
    assert ">occupied<" not in html
    assert "You manage this site" in html


def test_a_part_shows_the_request_for_itself_to_its_managers(client, login_as, week):
    html = _room_page(client, login_as, week, "manager_x", room="third")
    assert PENDING in html and PRIVATE in html  # the whole's booking blocks the third too
    assert html.count('class="slot pending"') == 1


@pytest.mark.parametrize("role", [None, "manager_y", "other_member"])
def test_everyone_else_sees_only_occupied(client, login_as, week, role):
    html = _room_page(client, login_as, week, role)
    for secret in (PRIVATE, PENDING, REQUESTER, "requested by"):
        assert secret not in html, secret
    calendar = html.split('id="week-title"')[1]
    assert ">occupied<" in calendar
    assert PUBLIC in calendar  # public bookings keep their title, as before
    assert 'class="slot pending"' not in html
    assert "You manage this site" not in html


def test_the_requester_does_not_see_other_details_on_the_public_page(client, login_as, week, db):
    """The room page is the public calendar: a party sees their own private date as 'occupied'
    there (their details are on 'my bookings'), and no requests at all."""
    requester = db.session.query(User).filter_by(name=REQUESTER).one()
    requester.language = "en"
    db.session.commit()
    login_as(requester)
    html = client.get(f"/rooms/{week['hall'].id}?week={_iso_week(week['monday'])}").text
    assert PENDING not in html and f"requested by {REQUESTER}" not in html


def test_the_site_page_points_its_managers_to_the_week_plan(client, login_as, week, new_client):
    site_id = week["site"].id
    login_as(week["users"]["manager_x"])
    html = client.get(f"/sites/{site_id}").text
    assert f"/manage/sites/{site_id}/plan?view=week&amp;pending=y" in html
    for role in ("manager_y", "other_member", None):
        other = new_client()
        if role is not None:
            other.post("/login", data={"email": week["users"][role].email, "password": PASSWORD})
        html = other.get(f"/sites/{site_id}").text
        assert "/plan?" not in html, role
