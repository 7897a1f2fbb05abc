"""PUT /api/v1/sites/<id>/opening-hours (#11): the same service and permissions as the web
form, problem+json answers."""

from __future__ import annotations

from sqlalchemy import select

from booking.models import AuditEvent, OpeningWindow
from tests.api.conftest import assert_problem

SCHOOL = [{"weekday": d, "opens": "16:00", "closes": "22:00"} for d in range(5)] + [
    {"weekday": 5, "opens": "09:00", "closes": "18:00"}
]


def _stored(db, site_id: int, room_id: int | None) -> list[tuple[int, int, int]]:
    db.session.expire_all()
    owner = OpeningWindow.room_id.is_(None) if room_id is None else OpeningWindow.room_id == room_id
    rows = db.session.scalars(
        select(OpeningWindow)
        .where(OpeningWindow.site_id == site_id, owner)
        .order_by(OpeningWindow.weekday, OpeningWindow.opens)
    )
    return [(w.weekday, w.opens, w.closes) for w in rows]


def test_a_manager_sets_school_hours_and_a_room_override(
    client, db, make_site, make_room, make_user, auth
):
    site = make_site()
    room = make_room(site)
    manager = auth(make_user(manages=[site]))
    url = f"/api/v1/sites/{site.id}/opening-hours"
    response = client.put(url, json={"room_id": None, "windows": SCHOOL}, headers=manager)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == {
        "site_id": site.id,
        "room_id": None,
        "windows": SCHOOL,
        "outside_opening_hours": 0,
    }
    assert _stored(db, site.id, None)[0] == (0, 960, 1320)

    late = [{"weekday": 4, "opens": "18:00", "closes": "24:00"}]
    response = client.put(url, json={"room_id": room.id, "windows": late}, headers=manager)
    assert response.status_code == 200
    assert response.get_json()["windows"] == late
    assert _stored(db, site.id, room.id) == [(4, 1080, 1440)]
    assert len(_stored(db, site.id, None)) == 6

    response = client.put(url, json={"room_id": room.id, "windows": []}, headers=manager)
    assert response.status_code == 200
    assert _stored(db, site.id, room.id) == []
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "opening_hours_set"))
    assert [r.room_id for r in rows] == [None, room.id, room.id]


def test_refusals_are_problems(client, db, make_site, make_room, make_user, auth):
    site, other = make_site(), make_site()
    foreign = make_room(other)
    manager = auth(make_user(manages=[site]))
    url = f"/api/v1/sites/{site.id}/opening-hours"
    body = {"room_id": None, "windows": SCHOOL}
    assert_problem(client.put(url, json=body), 401)
    assert_problem(
        client.put(f"/api/v1/sites/{other.id}/opening-hours", json=body, headers=manager), 403
    )
    assert_problem(
        client.put("/api/v1/sites/999999/opening-hours", json=body, headers=manager), 404
    )
    overlap = [
        {"weekday": 2, "opens": "10:00", "closes": "14:00"},
        {"weekday": 2, "opens": "13:00", "closes": "15:00"},
    ]
    assert_problem(
        client.put(url, json={"windows": overlap}, headers=manager), 422, "windows_overlap", "day2"
    )
    reversed_ = [{"weekday": 1, "opens": "14:00", "closes": "10:00"}]
    assert_problem(
        client.put(url, json={"windows": reversed_}, headers=manager),
        422,
        "window_reversed",
        "day1",
    )
    assert_problem(
        client.put(url, json={"room_id": foreign.id, "windows": []}, headers=manager),
        422,
        "room_not_at_site",
        "room_id",
    )
    bad_clock = [{"weekday": 1, "opens": "25:00", "closes": "26:00"}]
    assert_problem(client.put(url, json={"windows": bad_clock}, headers=manager), 422)
    bad_day = [{"weekday": 7, "opens": "10:00", "closes": "11:00"}]
    assert_problem(client.put(url, json={"windows": bad_day}, headers=manager), 422)
    assert _stored(db, site.id, None) == []
