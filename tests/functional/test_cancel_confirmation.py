"""Cancelling on "My bookings" asks first: a page says which dates and what happens; only its
POST cancels, and the answer says which dates were cancelled. No JavaScript needed."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from booking import domain
from booking.models import ApprovalPolicy, OccurrenceStatus

BERLIN = ZoneInfo("Europe/Berlin")


def soon(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def series(db, make_user, make_site, make_room, make_booking):
    me = make_user(language="en", name="Mia")
    site = make_site(name="Bürgerhaus Hennen")
    make_user(email="hausmeister@example.org", language="en", manages=[site])
    room = make_room(site, name="Probenraum", approval_policy=ApprovalPolicy.MANUAL)
    booking = make_booking(
        me,
        room,
        soon(3),
        minutes=120,
        title="Chorprobe",
        recurrence=domain.Recurrence(domain.Frequency.WEEKLY, count=3),
    )
    return me, booking


def statuses(db, booking) -> list[OccurrenceStatus]:
    db.session.expire_all()
    return [o.status for o in sorted(booking.occurrences, key=lambda o: o.starts_at)]


def test_my_bookings_links_to_the_question_instead_of_cancelling(client, login_as, series):
    me, booking = series
    login_as(me)
    page = text(client.get("/my/bookings"))
    second = sorted(booking.occurrences, key=lambda o: o.starts_at)[1]
    assert f'href="/my/bookings/{booking.id}/cancel?occurrence={second.id}"' in page
    assert f'href="/my/bookings/{booking.id}/cancel"' in page
    assert f'action="/my/bookings/{booking.id}/cancel"' not in page  # no one-tap cancelling


def test_the_question_for_one_date_says_which_and_what_happens(client, db, login_as, series):
    me, booking = series
    login_as(me)
    second = sorted(booking.occurrences, key=lambda o: o.starts_at)[1]
    response = client.get(f"/my/bookings/{booking.id}/cancel?occurrence={second.id}")
    page = text(response)
    assert response.status_code == 200
    assert "Cancel a date of “Chorprobe”?" in page
    assert "This date will be cancelled" in page
    day = second.starts_at.astimezone(BERLIN)
    assert page.count(f"{day.day} ") >= 1 and "18:00–20:00" in page
    assert page.count("<li>") >= 1 and len(re.findall(r'class="date-list"', page)) == 1
    assert "The managers of" in page and "are told by e-mail" in page
    assert "cannot be undone" in page
    assert f'name="occurrence" type="hidden" value="{second.id}"' in page
    assert "Yes, cancel the date" in page
    assert f'href="/my/bookings#booking-{booking.id}"' in page  # "No, keep the booking"
    assert statuses(db, booking) == [OccurrenceStatus.PENDING] * 3  # asking changed nothing


def test_the_question_for_all_upcoming_dates_lists_them_all(client, db, login_as, series):
    me, booking = series
    login_as(me)
    page = text(client.get(f"/my/bookings/{booking.id}/cancel"))
    assert "Cancel the upcoming dates of “Chorprobe”?" in page
    assert "These 3 dates will be cancelled" in page
    assert "Yes, cancel these 3 dates" in page
    assert page.count("18:00–20:00") == 3
    assert statuses(db, booking) == [OccurrenceStatus.PENDING] * 3


def test_confirming_cancels_and_says_which_dates(client, db, login_as, series):
    me, booking = series
    login_as(me)
    second = sorted(booking.occurrences, key=lambda o: o.starts_at)[1]
    response = client.post(f"/my/bookings/{booking.id}/cancel", data={"occurrence": str(second.id)})
    assert response.status_code == 302
    assert statuses(db, booking) == [
        OccurrenceStatus.PENDING,
        OccurrenceStatus.CANCELLED,
        OccurrenceStatus.PENDING,
    ]
    page = text(client.get(response.headers["Location"]))
    assert "The date of “Chorprobe” was cancelled." in page
    day = second.starts_at.astimezone(BERLIN)
    result = re.search(r"Cancelled: ([^<]*)", page)[1]
    assert str(day.year) in result and f"{day.day}" in result and "18:00–20:00" in result
    assert result.count("18:00") == 1  # only the date that was cancelled


def test_confirming_all_lists_every_cancelled_date(client, db, login_as, series):
    me, booking = series
    login_as(me)
    response = client.post(f"/my/bookings/{booking.id}/cancel", data={}, follow_redirects=True)
    page = text(response)
    assert "3 dates are cancelled" in page
    assert re.search(r"Cancelled: ([^<]*)", page)[1].count("18:00–20:00") == 3
    assert statuses(db, booking) == [OccurrenceStatus.CANCELLED] * 3


def test_a_member_who_did_not_ask_is_told_the_requester_hears_of_it(
    client, db, make_user, make_organisation, make_room, make_booking, login_as
):
    club = make_organisation(name="Chor")
    asker = make_user(name="Anton", organisations=[club])
    me = make_user(language="en", organisations=[club])
    booking = make_booking(asker, make_room(), soon(4), organisation_id=club.id, title="Probe")
    login_as(me)
    page = text(client.get(f"/my/bookings/{booking.id}/cancel"))
    assert "Anton, who asked for the booking, is told by e-mail." in page


def test_a_date_that_cannot_be_cancelled_any_more_says_so(client, db, login_as, series):
    me, booking = series
    login_as(me)
    first = sorted(booking.occurrences, key=lambda o: o.starts_at)[0]
    client.post(f"/my/bookings/{booking.id}/cancel", data={"occurrence": str(first.id)})
    response = client.get(f"/my/bookings/{booking.id}/cancel?occurrence={first.id}")
    page = text(response)
    assert response.status_code == 200
    assert "This date cannot be cancelled any more." in page
    assert "Yes, cancel" not in page


def test_someone_elses_booking_or_a_bad_date_is_refused(client, db, make_user, login_as, series):
    _me, booking = series
    stranger = make_user(language="en")
    login_as(stranger)
    assert client.get(f"/my/bookings/{booking.id}/cancel").status_code == 404
    assert client.get(f"/my/bookings/{booking.id}/cancel?occurrence=x").status_code == 400


def test_asking_needs_a_login(client, series):
    _me, booking = series
    response = client.get(f"/my/bookings/{booking.id}/cancel")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _mails_to(db, address: str):
    from sqlalchemy import select

    from booking.models import OutboxMessage

    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address))
    return [m for m in mails if "cancelled" in m.subject]  # not the new request's mail


def test_the_site_managers_are_told_by_mail(client, db, login_as, series):
    me, booking = series
    login_as(me)
    client.post(f"/my/bookings/{booking.id}/cancel", data={})
    (mail,) = _mails_to(db, "hausmeister@example.org")
    assert mail.subject == "3 dates cancelled: Chorprobe (Probenraum)"
    assert "Mia cancelled 3 dates; the room is free again at these times." in mail.body_text
    assert mail.body_text.count("18:00–20:00") == 3
    assert f"/rooms/{booking.room_id}" in mail.body_text


def test_a_manager_who_cancels_tells_no_manager(
    client, db, make_user, make_booking, login_as, series
):
    _me, booking = series
    manager = booking.room.site.managers[0]
    login_as(manager)
    page = text(client.get(f"/my/bookings/{booking.id}/cancel"))
    assert "are told by e-mail" not in page and "see on their pages" in page
    client.post(f"/my/bookings/{booking.id}/cancel", data={})
    assert _mails_to(db, "hausmeister@example.org") == []
