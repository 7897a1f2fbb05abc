"""PUT /api/v1/sites/<id>/opening-exceptions (#11): a site's or a room's dated exceptions to the
opening hours, replaced as a whole from today on; problem+json answers naming the entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.models import AuditEvent, OpeningException
from booking.services.bookings import BookingCommand, request_booking
from tests.api.conftest import assert_problem

BERLIN = ZoneInfo("Europe/Berlin")


def _ahead(days: int) -> date:
    return datetime.now(BERLIN).date() + timedelta(days=days)


def _stored(db, site_id: int, room_id: int | None) -> list[tuple[date, int | None, int | None]]:
    db.session.expire_all()
    owner = (
        OpeningException.room_id.is_(None)
        if room_id is None
        else OpeningException.room_id == room_id
    )
    rows = db.session.scalars(
        select(OpeningException)
        .where(OpeningException.site_id == site_id, owner)
        .order_by(OpeningException.day)
    )
    return [(r.day, r.opens, r.closes) for r in rows]


def test_a_manager_replaces_the_exceptions_of_a_site_and_a_room(
    client, db, make_site, make_room, make_user, auth
):
    site = make_site()
    room = make_room(site)
    manager_user = make_user(manages=[site])
    manager = auth(manager_user)
    url = f"/api/v1/sites/{site.id}/opening-exceptions"
    short, closed = _ahead(20), _ahead(27)
    body = {
        "room_id": None,
        "exceptions": [
            {
                "date": short.isoformat(),
                "opens": "09:00",
                "closes": "12:00",
                "reason": "Heiligabend",
            },
            {"date": closed.isoformat(), "closed": True},
        ],
    }
    response = client.put(url, json=body, headers=manager)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert [(e["date"], e["opens"], e["closes"], e["closed"]) for e in answer["exceptions"]] == [
        (short.isoformat(), "09:00", "12:00", False),
        (closed.isoformat(), None, None, True),
    ]
    assert answer["outside_opening_hours"] == 0 and answer["room_id"] is None
    assert _stored(db, site.id, None) == [(short, 540, 720), (closed, None, None)]

    # The booking rules see them at once.
    start = datetime(short.year, short.month, short.day, 18, tzinfo=BERLIN).astimezone(UTC)
    booking = request_booking(
        manager_user,
        BookingCommand(
            room_id=room.id,
            title="Probe",
            start=start - timedelta(hours=8),
            end=start - timedelta(hours=7),
            house_rules_accepted=True,
        ),
    )
    assert booking.id is not None
    db.session.commit()

    # Sent again without the closed day: it is removed, the short day left as it is.
    body["exceptions"] = body["exceptions"][:1]
    response = client.put(url, json=body, headers=manager)
    assert response.status_code == 200
    assert _stored(db, site.id, None) == [(short, 540, 720)]
    actions = [
        (e.action, e.details["day"])
        for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.action.startswith("opening_exception")
    ]
    assert actions == [
        ("opening_exception_set", short.isoformat()),
        ("opening_exception_set", closed.isoformat()),
        ("opening_exception_deleted", closed.isoformat()),
    ]

    # A room's own: the morning booked above now lies outside (counted, not changed).
    room_body = {"room_id": room.id, "exceptions": [{"date": short.isoformat(), "closed": True}]}
    response = client.put(url, json=room_body, headers=manager)
    assert response.status_code == 200
    assert response.get_json()["outside_opening_hours"] == 1
    assert _stored(db, site.id, room.id) == [(short, None, None)]
    assert _stored(db, site.id, None) == [(short, 540, 720)]


def test_refusals_are_problems_naming_the_entry(client, db, make_site, make_room, make_user, auth):
    site, other = make_site(), make_site()
    foreign = make_room(other)
    manager = auth(make_user(manages=[site]))
    url = f"/api/v1/sites/{site.id}/opening-exceptions"
    good = {"date": _ahead(10).isoformat(), "closed": True}
    assert_problem(client.put(url, json={"exceptions": [good]}), 401)
    assert_problem(
        client.put(
            f"/api/v1/sites/{other.id}/opening-exceptions",
            json={"exceptions": [good]},
            headers=manager,
        ),
        403,
    )
    assert_problem(
        client.put(
            "/api/v1/sites/999999/opening-exceptions", json={"exceptions": []}, headers=manager
        ),
        404,
    )

    def put(*entries, room_id=None):
        return client.put(
            url, json={"room_id": room_id, "exceptions": list(entries)}, headers=manager
        )

    reversed_ = {"date": _ahead(11).isoformat(), "opens": "14:00", "closes": "10:00"}
    assert_problem(
        put(good, good | {"date": _ahead(12).isoformat()}, reversed_),
        422,
        "window_reversed",
        "exceptions.2.closes",
    )
    half = {"date": _ahead(11).isoformat(), "opens": "14:00"}
    assert_problem(put(half), 422, "time_missing", "exceptions.0.closes")
    assert_problem(put({"date": _ahead(11).isoformat()}), 422, "time_missing", "exceptions.0.opens")
    both = {"date": _ahead(11).isoformat(), "closed": True, "closes": "12:00"}
    assert_problem(put(both), 422, "closed_with_times", "exceptions.0.closes")
    past = {"date": _ahead(-2).isoformat(), "closed": True}
    assert_problem(put(past), 422, "day_in_past", "exceptions.0.date")
    assert_problem(put(good, good), 422, "day_listed_twice", "exceptions.1.date")
    assert_problem(put(good, room_id=foreign.id), 422, "room_not_at_site", "room_id")
    long_reason = good | {"reason": "x" * 201}
    assert_problem(put(long_reason), 422, field="exceptions.0.reason")
    bad_clock = {"date": _ahead(11).isoformat(), "opens": "25:00", "closes": "26:00"}
    assert_problem(put(bad_clock), 422, field="exceptions.0.opens")
    assert_problem(put({"date": "24.12.", "closed": True}), 422, field="exceptions.0.date")
    assert _stored(db, site.id, None) == []
    assert not db.session.scalars(select(AuditEvent)).all()
