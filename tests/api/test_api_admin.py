"""The administration operations of the API: sites and rooms, same services and permissions
as the web pages, problem+json answers."""

from __future__ import annotations

from sqlalchemy import select

from booking.models import AuditEvent, Room
from tests.api.conftest import assert_problem

SITE = {"name": "Stadtpark", "kind": "park", "district": "Innenstadt", "postcode": "58636"}


def test_admin_creates_a_site_and_others_may_not(client, make_user, auth):
    admin, member = auth(make_user(is_admin=True)), auth(make_user())
    response = client.post("/api/v1/sites", json=SITE, headers=admin)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "park" and body["timezone"] == "Europe/Berlin"
    assert_problem(client.post("/api/v1/sites", json=SITE | {"name": "X"}, headers=member), 403)
    assert_problem(client.post("/api/v1/sites", json=SITE), 401)
    taken = client.post("/api/v1/sites", json=SITE, headers=admin)
    assert_problem(taken, 422, "name_taken", "name")
    zone = client.post(
        "/api/v1/sites", json=SITE | {"name": "Y", "timezone": "Mars/Olympus"}, headers=admin
    )
    assert_problem(zone, 422, "timezone_unknown", "timezone")
    assert_problem(client.post("/api/v1/sites", json=SITE | {"kind": "moon"}, headers=admin), 422)


def test_a_manager_patches_their_site_only(client, db, make_site, make_user, auth):
    mine, other = make_site(), make_site()
    manager = auth(make_user(manages=[mine]))
    response = client.patch(
        f"/api/v1/sites/{mine.id}", json={"district": "Letmathe"}, headers=manager
    )
    assert response.status_code == 200
    assert response.get_json()["district"] == "Letmathe"
    assert response.get_json()["name"] == mine.name
    assert_problem(client.patch(f"/api/v1/sites/{other.id}", json={}, headers=manager), 403)
    assert_problem(
        client.patch(f"/api/v1/sites/{mine.id}", json={"active": False}, headers=manager),
        403,
        "admins_only",
    )
    assert_problem(client.patch("/api/v1/sites/999999", json={}, headers=manager), 404)
    assert_problem(
        client.patch(f"/api/v1/sites/{mine.id}", json={"name": None}, headers=manager), 422
    )
    (row,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site_updated"))
    assert row.details["changes"] == {"district": ["Innenstadt", "Letmathe"]}


def test_rooms_and_parts(client, db, make_site, make_room, make_user, auth):
    site, other = make_site(), make_site()
    manager = auth(make_user(manages=[site]))
    hall = client.post(
        "/api/v1/rooms",
        json={"site_id": site.id, "name": "Halle", "capacity": 100, "features": ["stage"]},
        headers=manager,
    )
    assert hall.status_code == 201, hall.get_json()
    hall_id = hall.get_json()["id"]
    part = client.post(
        "/api/v1/rooms",
        json={"site_id": site.id, "name": "Drittel", "capacity": 30, "parent_id": hall_id},
        headers=manager,
    )
    assert part.status_code == 201
    assert part.get_json()["parent_id"] == hall_id
    part_id = part.get_json()["id"]
    cycle = client.patch(f"/api/v1/rooms/{hall_id}", json={"parent_id": part_id}, headers=manager)
    assert_problem(cycle, 422, "parent_cycle", "parent_id")
    assert_problem(
        client.post(
            "/api/v1/rooms", json={"site_id": other.id, "name": "X", "capacity": 1}, headers=manager
        ),
        403,
    )
    assert_problem(
        client.post(
            "/api/v1/rooms", json={"site_id": 999999, "name": "X", "capacity": 1}, headers=manager
        ),
        404,
    )
    changed = client.patch(
        f"/api/v1/rooms/{part_id}",
        json={"parent_id": None, "capacity": 35, "buffer_after_minutes": 15},
        headers=manager,
    )
    assert changed.status_code == 200
    assert changed.get_json()["parent_id"] is None and changed.get_json()["capacity"] == 35
    db.session.expire_all()
    assert db.session.get(Room, part_id).buffer_after_minutes == 15
    bad = client.patch(
        f"/api/v1/rooms/{part_id}",
        json={"min_duration_minutes": 120, "max_duration_minutes": 60},
        headers=manager,
    )
    assert_problem(bad, 422, "durations_reversed", "max_duration_minutes")
    foreign = make_room(other)
    assert_problem(client.patch(f"/api/v1/rooms/{foreign.id}", json={}, headers=manager), 403)
    assert_problem(client.patch("/api/v1/rooms/999999", json={}, headers=manager), 404)
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["room_created", "room_created", "room_updated"]
