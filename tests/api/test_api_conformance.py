"""Real answers (created, conflict, validation, lists, errors) match the published document."""

from __future__ import annotations

import jsonschema_rs
import pytest

from booking.models import ApprovalPolicy
from tests.api.conftest import BERLIN, iso, local


@pytest.fixture
def conforms(client):
    document = client.get("/api/v1/openapi.json").get_json()

    def check(response, path: str, method: str = "get") -> dict:
        declared = document["paths"]["/api/v1" + path][method]["responses"]
        status = str(response.status_code)
        assert status in declared, f"{method.upper()} {path} answered undeclared {status}"
        (content_type, content), *_ = declared[status]["content"].items()
        assert response.mimetype == content_type
        schema = {"$ref": content["schema"]["$ref"], "components": document["components"]}
        body = response.get_json()
        errors = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(body)]
        assert not errors, errors
        return body

    return check


def test_answers_match_their_schemas(
    client, conforms, make_site, make_room, make_user, make_booking, auth
):
    site = make_site()
    room = make_room(site, approval_policy=ApprovalPolicy.MANUAL)
    site_manager = make_user(manages=[site])
    manager = auth(site_manager)
    headers = auth(make_user())
    # The manager's own booking is approved straight away, so it blocks and is an open offer.
    make_booking(site_manager, room, local(7, 18).replace(tzinfo=BERLIN), is_public=True)

    conforms(client.get("/api/v1/sites"), "/sites")
    conforms(client.get(f"/api/v1/sites/{site.id}"), "/sites/{site_id}")
    conforms(client.get("/api/v1/rooms?features=projector"), "/rooms")
    conforms(client.get(f"/api/v1/rooms/{room.id}"), "/rooms/{room_id}")
    conforms(client.get("/api/v1/rooms/99999"), "/rooms/{room_id}")
    window = f"start={iso(local(7, 0))}&end={iso(local(8, 0))}"
    conforms(
        client.get(f"/api/v1/rooms/{room.id}/availability?{window}"),
        "/rooms/{room_id}/availability",
    )
    conforms(client.get("/api/v1/organisations?limit=1"), "/organisations")
    offers = conforms(client.get("/api/v1/open-offers"), "/open-offers")
    assert len(offers["items"]) == 1

    body = {
        "room_id": room.id,
        "title": "Probe",
        "start": iso(local(14, 18)),
        "end": iso(local(14, 19)),
        "recurrence": {"freq": "weekly", "count": 2},
    }
    created = conforms(
        client.post("/api/v1/bookings", headers=headers, json=body), "/bookings", "post"
    )
    taken = {"room_id": room.id, "title": "x", "start": iso(local(7, 18)), "end": iso(local(7, 19))}
    problem = conforms(
        client.post("/api/v1/bookings", headers=headers, json=taken), "/bookings", "post"
    )
    assert problem["code"] == "conflict"
    conforms(client.post("/api/v1/bookings", headers=headers, json={}), "/bookings", "post")
    conforms(client.post("/api/v1/bookings", json=body), "/bookings", "post")
    conforms(client.get("/api/v1/bookings", headers=manager), "/bookings")
    booking_path = f"/api/v1/bookings/{created['id']}"
    conforms(client.get(booking_path, headers=headers), "/bookings/{booking_id}")
    conforms(
        client.post(booking_path + "/approve", headers=manager),
        "/bookings/{booking_id}/approve",
        "post",
    )
    conforms(
        client.post(booking_path + "/decline", headers=headers, json={"reason": "x"}),
        "/bookings/{booking_id}/decline",
        "post",
    )
    conforms(
        client.post(booking_path + "/cancel", headers=headers),
        "/bookings/{booking_id}/cancel",
        "post",
    )
    conforms(
        client.post(booking_path + "/cancel", headers=headers),
        "/bookings/{booking_id}/cancel",
        "post",
    )
