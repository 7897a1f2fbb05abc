"""``GET /api/v1/audit`` (#11): the history of a booking, room or site with the permissions of
the history pages, paged by cursor, problem+json for bad filters."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from booking.models import ApprovalPolicy
from booking.services import audit, decisions, places
from tests.api.conftest import assert_problem

START = (datetime.now(UTC) + timedelta(days=12)).replace(hour=15, minute=0, second=0, microsecond=0)
TITLE_X = "Chorprobe Vertraulich"
REASON = "Schlüssel beim Hausmeister abholen"


@dataclasses.dataclass
class World:
    site_x: object
    site_y: object
    room_x: object
    booking_x: object
    booking_y: object
    manager_x: object
    manager_y: object
    admin: object
    member: object


@pytest.fixture
def world(db, make_site, make_room, make_user, make_organisation, make_booking) -> World:
    site_x, site_y = make_site(name="Realschule Nord"), make_site(name="Bibliothek Süd")
    room_x = make_room(site_x, name="Aula", capacity=30, approval_policy=ApprovalPolicy.MANUAL)
    room_y = make_room(site_y, name="Lesesaal", approval_policy=ApprovalPolicy.MANUAL)
    organisation = make_organisation(name="Chor Iserlohn")
    member = make_user(name="Mia Mitglied", organisations=[organisation])
    manager_x = make_user(name="Hanna Hausmeisterin", manages=[site_x])
    manager_y = make_user(name="Yusuf Verwalter", manages=[site_y])
    admin = make_user(name="Ada Admin", is_admin=True)
    booking_x = make_booking(member, room_x, START, title=TITLE_X, organisation_id=organisation.id)
    booking_y = make_booking(member, room_y, START, title="Elternabend")
    decisions.approve(manager_x, booking_x.id, comment=REASON)
    places.update_room(
        manager_x, room_x.id, dataclasses.replace(places.room_command(room_x), capacity=12)
    )
    places.set_opening_hours(manager_x, site_x.id, None, [(0, 16 * 60, 22 * 60)])
    db.session.commit()
    return World(site_x, site_y, room_x, booking_x, booking_y, manager_x, manager_y, admin, member)


def test_a_manager_reads_a_bookings_history(client, world, auth):
    response = client.get(
        f"/api/v1/audit?booking_id={world.booking_x.id}", headers=auth(world.manager_x)
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [e["action"] for e in body["items"]] == ["approved", "requested"]
    approved = body["items"][0]
    assert approved["actor"] == {"id": world.manager_x.id, "name": "Hanna Hausmeisterin"}
    assert approved["reason"] == REASON
    assert approved["booking_id"] == world.booking_x.id
    assert approved["room_id"] == world.room_x.id and approved["site_id"] == world.site_x.id
    assert datetime.fromisoformat(approved["at"]).tzinfo is not None
    assert body["next"] is None and body["limit"] == 50


def test_a_rooms_history_carries_the_capacity_change(client, world, auth):
    response = client.get(
        f"/api/v1/audit?room_id={world.room_x.id}&action=room_updated",
        headers=auth(world.manager_x),
    )
    items = response.get_json()["items"]
    assert len(items) == 1
    assert items[0]["details"]["changes"]["capacity"] == [30, 12]


def test_a_sites_history_has_its_opening_hours(client, world, auth):
    response = client.get(f"/api/v1/audit?site_id={world.site_x.id}", headers=auth(world.admin))
    actions = [e["action"] for e in response.get_json()["items"]]
    assert actions == ["opening_hours_set", "room_updated", "approved", "requested"]
    hours = response.get_json()["items"][0]
    assert hours["details"] == {"windows": [[0, 960, 1320]]}
    assert hours["room_id"] is None


def test_another_sites_manager_gets_404_or_403_and_no_names(client, world, auth):
    headers = auth(world.manager_y)
    booking = client.get(f"/api/v1/audit?booking_id={world.booking_x.id}", headers=headers)
    room = client.get(f"/api/v1/audit?room_id={world.room_x.id}", headers=headers)
    site = client.get(f"/api/v1/audit?site_id={world.site_x.id}", headers=headers)
    assert_problem(booking, 404)
    assert_problem(room, 403)
    assert_problem(site, 403)
    for response in (booking, room, site):
        body = response.get_data(as_text=True)
        assert TITLE_X not in body and REASON not in body and "Hanna" not in body


def test_the_requester_reads_their_bookings_events_only(client, world, auth):
    headers = auth(world.member)
    own = client.get(f"/api/v1/audit?booking_id={world.booking_x.id}", headers=headers)
    assert {e["booking_id"] for e in own.get_json()["items"]} == {world.booking_x.id}
    assert_problem(client.get(f"/api/v1/audit?site_id={world.site_x.id}", headers=headers), 403)


def test_non_admins_must_name_a_subject(client, world, auth):
    body = assert_problem(
        client.get("/api/v1/audit", headers=auth(world.manager_x)),
        422,
        "subject_required",
        "booking_id",
    )
    assert "booking" in body["title"].lower() or "booking" in body.get("detail", "").lower()
    everything = client.get("/api/v1/audit", headers=auth(world.admin))
    assert everything.status_code == 200
    assert len(everything.get_json()["items"]) == 5  # two requests, approval, room, hours


def test_unauthenticated_is_401(client, world):
    assert_problem(client.get(f"/api/v1/audit?site_id={world.site_x.id}"), 401)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("site_id=abc", "site_id"),
        ("booking_id=0", "booking_id"),
        ("since=yesterday", "since"),
        ("since=2026-05-02T00:00&until=2026-05-01T00:00", "until"),
        ("limit=0", "limit"),
        ("cursor=%25%25%25", "cursor"),
        ("action=" + "x" * 60, "action"),
    ],
)
def test_bad_filters_are_422_with_the_field(client, world, auth, query, field):
    response = client.get(
        f"/api/v1/audit?site_id={world.site_x.id}&{query}", headers=auth(world.admin)
    )
    assert_problem(response, 422, field=field)


def test_unknown_subjects_are_404(client, world, auth):
    headers = auth(world.admin)
    assert_problem(client.get("/api/v1/audit?room_id=424242", headers=headers), 404)
    assert_problem(client.get("/api/v1/audit?booking_id=424242", headers=headers), 404)


def test_since_and_until_select_by_time(client, world, auth):
    headers = auth(world.admin)
    now = datetime.now(UTC)
    recent = client.get(
        f"/api/v1/audit?since={(now - timedelta(hours=1)).isoformat(timespec='seconds')}"
        f"&until={(now + timedelta(hours=1)).isoformat(timespec='seconds')}".replace("+", "%2B"),
        headers=headers,
    )
    assert len(recent.get_json()["items"]) == 5
    old = client.get("/api/v1/audit?until=2020-01-01T00:00", headers=headers)
    assert old.get_json()["items"] == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, db, world, auth):
    for n in range(7):
        audit.record("room_updated", world.admin, site_id=world.site_x.id, changes={"n": [n, n]})
    db.session.commit()
    headers = auth(world.manager_x)
    url = f"/api/v1/audit?site_id={world.site_x.id}&limit=5"
    seen = []
    while url:
        body = client.get(url, headers=headers).get_json()
        assert len(body["items"]) <= 5
        seen += [e["id"] for e in body["items"]]
        url = body["next"]
    assert len(seen) == 11 and len(set(seen)) == 11
    assert seen == sorted(seen, reverse=True)  # newest first


def test_the_operation_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/audit"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"booking_id", "room_id", "site_id", "since", "until", "limit", "cursor"} <= names
    assert {"403", "404", "422"} <= set(operation["responses"])


def test_answers_match_the_published_schemas(client, world, auth):
    import jsonschema_rs

    document = client.get("/api/v1/openapi.json").get_json()
    declared = document["paths"]["/api/v1/audit"]["get"]["responses"]
    headers = auth(world.manager_x)
    for url, status in (
        (f"/api/v1/audit?site_id={world.site_x.id}", 200),
        (f"/api/v1/audit?site_id={world.site_y.id}", 403),
        ("/api/v1/audit?booking_id=424242", 404),
        ("/api/v1/audit", 422),
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == status
        (content_type, content), *_ = declared[str(status)]["content"].items()
        assert response.mimetype == content_type
        schema = {"$ref": content["schema"]["$ref"], "components": document["components"]}
        validator = jsonschema_rs.validator_for(schema)
        assert [str(e) for e in validator.iter_errors(response.get_json())] == []
