"""Facility managers answer requests for their sites, and only for theirs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from booking.domain import Frequency, Recurrence
from booking.models import ApprovalPolicy, Occurrence

NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)


@pytest.fixture
def scene(db, make_room, make_user, make_organisation, make_booking):
    room = make_room(name="Aula", approval_policy=ApprovalPolicy.MANUAL)
    other_room = make_room(name="Fremder Saal", approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(name="Hausmeister", manages=[room.site])
    choir = make_organisation(name="Kammerchor")
    singer = make_user(name="Sängerin", organisations=[choir])
    series = make_booking(
        singer,
        room,
        datetime(2027, 2, 2, 18),
        120,
        title="Chorprobe",
        organisation_id=choir.id,
        recurrence=Recurrence(Frequency.WEEKLY, count=3),
        now=NOW,
    )
    rival = make_booking(make_user(), room, datetime(2027, 2, 9, 19), 60, title="Lesung", now=NOW)
    elsewhere = make_booking(
        singer, other_room, datetime(2027, 2, 2, 18), title="Anderswo", now=NOW
    )
    return {"manager": manager, "series": series, "rival": rival, "elsewhere": elsewhere}


def statuses(db, booking) -> list[str]:
    db.session.expire_all()
    return [
        o.status.value
        for o in db.session.scalars(
            select(Occurrence).where(Occurrence.booking_id == booking.id).order_by(Occurrence.id)
        )
    ]


def test_manager_sees_requests_of_own_sites_with_rivals(client, login_as, scene):
    login_as(scene["manager"])
    html = client.get("/manage").get_data(as_text=True)
    assert "Chorprobe" in html and "Lesung" in html
    assert "Anderswo" not in html  # another site's request
    assert "Also requested by" in html or "Auch angefragt" in html


def test_approve_some_and_decline_others(client, login_as, db, scene):
    login_as(scene["manager"])
    series = scene["series"]
    first, second, third = sorted(o.id for o in series.occurrences)
    response = client.post(
        f"/manage/bookings/{series.id}/decide",
        data={"action": "approve", "occurrences": [first, third]},
    )
    assert response.status_code == 302
    assert statuses(db, series) == ["approved", "pending", "approved"]

    # Declining without a reason is refused and changes nothing
    client.post(
        f"/manage/bookings/{series.id}/decide", data={"action": "decline", "occurrences": [second]}
    )
    assert statuses(db, series) == ["approved", "pending", "approved"]
    client.post(
        f"/manage/bookings/{series.id}/decide",
        data={"action": "decline", "occurrences": [second], "message": "Elternabend"},
    )
    assert statuses(db, series) == ["approved", "declined", "approved"]
    declined = db.session.get(Occurrence, second)
    assert declined.status_reason == "Elternabend"


def test_approving_a_rival_of_an_approved_date_is_refused(client, login_as, db, scene):
    login_as(scene["manager"])
    client.post(f"/manage/bookings/{scene['series'].id}/decide", data={"action": "approve"})
    response = client.post(
        f"/manage/bookings/{scene['rival'].id}/decide", data={"action": "approve"}
    )
    assert response.status_code == 302
    assert statuses(db, scene["rival"]) == ["pending"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lesung" in page


def test_others_cannot_manage(client, login_as, db, scene, make_user):
    login_as(make_user())
    assert client.get("/manage").status_code == 403
    response = client.post(
        f"/manage/bookings/{scene['series'].id}/decide", data={"action": "approve"}
    )
    assert response.status_code == 404
    assert statuses(db, scene["series"]) == ["pending", "pending", "pending"]


def test_only_managers_see_the_requests_link(client, login_as, db, scene, make_user):
    assert "/manage" not in client.get("/").text
    login_as(scene["manager"])
    assert 'href="/manage"' in client.get("/").text
