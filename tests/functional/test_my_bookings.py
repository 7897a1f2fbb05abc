"""My bookings: own and organisation bookings, every date with its status, cancelling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import domain
from booking.models import ApprovalPolicy, OccurrenceStatus
from booking.services.bookings import decline

BERLIN = ZoneInfo("Europe/Berlin")


def soon(days: int, hour: int = 18) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


@pytest.fixture
def weekly():
    return domain.Recurrence(domain.Frequency.WEEKLY, count=3)


def test_needs_a_login(client):
    response = client.get("/my/bookings")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_lists_own_and_organisation_bookings_only(
    client, db, make_user, make_organisation, make_room, make_booking, login_as, weekly
):
    club = make_organisation(name="Chor Letmathe")
    me = make_user(language="en", organisations=[club])
    friend = make_user(language="en", organisations=[club], name="Frieda")
    stranger = make_user(language="en")
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    make_booking(me, room, soon(3), title="Mine", recurrence=weekly)
    make_booking(friend, room, soon(4), title="Club rehearsal", organisation_id=club.id)
    make_booking(stranger, room, soon(5), title="Not mine")
    login_as(me)
    html = client.get("/my/bookings").text
    assert "Mine" in html
    assert "Club rehearsal" in html
    assert "asked for by Frieda" in html
    assert "Not mine" not in html
    assert html.count("waiting for approval") == 4
    assert "/bookings/" in html and ".ics" in html


def test_decline_reason_is_shown(client, db, make_user, make_room, make_booking, login_as):
    me = make_user(language="en")
    manager = make_user(is_admin=True)
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    booking = make_booking(me, room, soon(3), title="Kurs")
    decline(manager, booking.id, "The hall is being painted that week.")
    db.session.commit()
    login_as(me)
    html = client.get("/my/bookings").text
    assert "declined" in html
    assert "Reason: The hall is being painted that week." in html
    assert "Cancel this date" not in html  # nothing left to cancel


def test_cancel_one_date(client, db, make_user, make_room, make_booking, login_as, weekly):
    me = make_user(language="en")
    room = make_room()
    booking = make_booking(me, room, soon(3), title="Serie", recurrence=weekly)
    second = booking.occurrences[1]
    login_as(me)
    page = client.get("/my/bookings").text
    assert page.count("Cancel this date") == 3
    assert "Cancel all 3 upcoming dates" in page
    response = client.post(f"/my/bookings/{booking.id}/cancel", data={"occurrence": str(second.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert [o.status for o in booking.occurrences] == [
        OccurrenceStatus.APPROVED,
        OccurrenceStatus.CANCELLED,
        OccurrenceStatus.APPROVED,
    ]
    page = client.get("/my/bookings").text
    assert "The date of “Serie” was cancelled." in page
    assert page.count("Cancel this date") == 2


def test_cancel_whole_series(client, db, make_user, make_room, make_booking, login_as, weekly):
    me = make_user(language="en")
    room = make_room()
    booking = make_booking(me, room, soon(3), title="Serie", recurrence=weekly)
    login_as(me)
    response = client.post(f"/my/bookings/{booking.id}/cancel", data={}, follow_redirects=True)
    assert "3 dates are cancelled" in response.text
    db.session.expire_all()
    assert {o.status for o in booking.occurrences} == {OccurrenceStatus.CANCELLED}


def test_cannot_cancel_someone_elses_booking(
    client, db, make_user, make_room, make_booking, login_as
):
    owner, me = make_user(), make_user(language="en")
    booking = make_booking(owner, make_room(), soon(3))
    login_as(me)
    response = client.post(f"/my/bookings/{booking.id}/cancel", data={})
    assert response.status_code == 404
    db.session.expire_all()
    assert booking.occurrences[0].status is OccurrenceStatus.APPROVED


def test_cancelling_a_past_or_foreign_date_is_refused_kindly(
    client, db, make_user, make_room, make_booking, login_as
):
    me = make_user(language="en")
    room = make_room()
    past = make_booking(
        me, room, datetime.now(UTC) - timedelta(days=2), now=datetime.now(UTC) - timedelta(days=3)
    )
    other = make_booking(me, room, soon(3))
    login_as(me)
    response = client.post(
        f"/my/bookings/{past.id}/cancel",
        data={"occurrence": str(past.occurrences[0].id)},
        follow_redirects=True,
    )
    assert "cannot be cancelled any more" in response.text
    response = client.post(
        f"/my/bookings/{past.id}/cancel",
        data={"occurrence": str(other.occurrences[0].id)},
        follow_redirects=True,
    )
    assert "cannot be cancelled any more" in response.text
    assert (
        client.post(f"/my/bookings/{past.id}/cancel", data={"occurrence": "x"}).status_code == 400
    )
    db.session.expire_all()
    assert other.occurrences[0].status is OccurrenceStatus.APPROVED


def test_past_bookings_are_listed_apart(client, db, make_user, make_room, make_booking, login_as):
    me = make_user(language="en")
    room = make_room()
    make_booking(
        me,
        room,
        datetime.now(UTC) - timedelta(days=5),
        title="Last week's meeting",
        now=datetime.now(UTC) - timedelta(days=6),
    )
    make_booking(me, room, soon(6), title="Next meeting")
    login_as(me)
    html = client.get("/my/bookings").text
    coming, earlier = html.split("Earlier bookings")
    assert "Next meeting" in coming and "Last week's meeting" not in coming
    assert "Last week&#39;s meeting" in earlier or "Last week's meeting" in earlier
