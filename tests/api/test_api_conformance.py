"""Real answers (created, conflict, validation, lists, errors) match the published document."""

from __future__ import annotations

import jsonschema_rs
import pytest

from booking.models import ApprovalPolicy
from tests.api.conftest import BERLIN, iso, local


@pytest.fixture
def conforms(client):
    """``conforms(response, status, path, method)``: the answer has the expected status (so a
    permission regression fails even where the document declares the wrong status too) and
    matches what the document declares for it, formats included (`date-time` is RFC 3339)."""
    document = client.get("/api/v1/openapi.json").get_json()

    def check(response, status: int, path: str, method: str = "get") -> dict:
        assert response.status_code == status, (
            f"{method.upper()} {path}: {response.status_code}, not {status}: "
            f"{response.get_data(as_text=True)[:300]}"
        )
        declared = document["paths"]["/api/v1" + path][method]["responses"]
        assert str(status) in declared, f"{method.upper()} {path} answered undeclared {status}"
        (content_type, content), *_ = declared[str(status)]["content"].items()
        assert response.mimetype == content_type
        schema = {"$ref": content["schema"]["$ref"], "components": document["components"]}
        body = response.get_json()
        validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        errors = [str(e) for e in validator.iter_errors(body)]
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
    stranger = auth(make_user())
    # The manager's own booking is approved straight away, so it blocks and is an open offer.
    make_booking(site_manager, room, local(7, 18).replace(tzinfo=BERLIN), is_public=True)

    conforms(client.get("/api/v1/sites"), 200, "/sites")
    conforms(client.get(f"/api/v1/sites/{site.id}"), 200, "/sites/{site_id}")
    conforms(client.get("/api/v1/rooms?features=projector"), 200, "/rooms")
    conforms(client.get(f"/api/v1/rooms/{room.id}"), 200, "/rooms/{room_id}")
    conforms(client.get("/api/v1/rooms/99999"), 404, "/rooms/{room_id}")
    window = f"start={iso(local(7, 0))}&end={iso(local(8, 0))}"
    conforms(
        client.get(f"/api/v1/rooms/{room.id}/availability?{window}"),
        200,
        "/rooms/{room_id}/availability",
    )
    conforms(client.get("/api/v1/organisations?limit=1"), 200, "/organisations")
    offers = conforms(client.get("/api/v1/open-offers"), 200, "/open-offers")
    assert len(offers["items"]) == 1

    body = {
        "room_id": room.id,
        "title": "Probe",
        "start": iso(local(14, 18)),
        "end": iso(local(14, 19)),
        "recurrence": {"freq": "weekly", "count": 2},
    }
    created = conforms(
        client.post("/api/v1/bookings", headers=headers, json=body), 201, "/bookings", "post"
    )
    taken = {"room_id": room.id, "title": "x", "start": iso(local(7, 18)), "end": iso(local(7, 19))}
    problem = conforms(
        client.post("/api/v1/bookings", headers=headers, json=taken), 409, "/bookings", "post"
    )
    assert problem["code"] == "conflict"
    conforms(client.post("/api/v1/bookings", headers=headers, json={}), 422, "/bookings", "post")
    conforms(client.post("/api/v1/bookings", json=body), 401, "/bookings", "post")
    conforms(client.get("/api/v1/bookings"), 401, "/bookings")
    conforms(client.get("/api/v1/bookings", headers=manager), 200, "/bookings")

    booking_path = f"/api/v1/bookings/{created['id']}"
    conforms(client.get(booking_path), 401, "/bookings/{booking_id}")
    conforms(client.get(booking_path, headers=stranger), 404, "/bookings/{booking_id}")
    conforms(client.get(booking_path, headers=headers), 200, "/bookings/{booking_id}")
    conforms(client.get(booking_path, headers=manager), 200, "/bookings/{booking_id}")

    approve, decline = booking_path + "/approve", booking_path + "/decline"
    conforms(client.post(approve), 401, "/bookings/{booking_id}/approve", "post")
    conforms(client.post(approve, headers=stranger), 404, "/bookings/{booking_id}/approve", "post")
    # The requester sees the booking, but deciding is the site's managers' business.
    conforms(client.post(approve, headers=headers), 403, "/bookings/{booking_id}/approve", "post")
    conforms(
        client.post(decline, headers=headers, json={"reason": "x"}),
        403,
        "/bookings/{booking_id}/decline",
        "post",
    )
    conforms(client.post(approve, headers=manager), 200, "/bookings/{booking_id}/approve", "post")

    cancel = booking_path + "/cancel"
    conforms(client.post(cancel), 401, "/bookings/{booking_id}/cancel", "post")
    conforms(client.post(cancel, headers=stranger), 404, "/bookings/{booking_id}/cancel", "post")
    conforms(client.post(cancel, headers=headers), 200, "/bookings/{booking_id}/cancel", "post")
    conforms(client.post(cancel, headers=headers), 409, "/bookings/{booking_id}/cancel", "post")


def test_administration_answers_by_role(client, conforms, make_site, make_room, make_user, auth):
    site, other = make_site(), make_site()
    room = make_room(site)
    admin, manager = auth(make_user(is_admin=True)), auth(make_user(manages=[site]))
    member = auth(make_user())
    new_site = {"name": "Stadtgarten", "kind": "park", "district": "Letmathe"}

    conforms(client.post("/api/v1/sites", json=new_site), 401, "/sites", "post")
    conforms(client.post("/api/v1/sites", json=new_site, headers=manager), 403, "/sites", "post")
    conforms(client.post("/api/v1/sites", json=new_site, headers=admin), 201, "/sites", "post")

    change = {"district": "Hennen"}
    site_path, site_doc = f"/api/v1/sites/{site.id}", "/sites/{site_id}"
    conforms(client.patch(site_path, json=change), 401, site_doc, "patch")
    conforms(client.patch(site_path, json=change, headers=member), 403, site_doc, "patch")
    conforms(
        client.patch(f"/api/v1/sites/{other.id}", json=change, headers=manager),
        403,
        site_doc,
        "patch",
    )
    conforms(client.patch(site_path, json=change, headers=manager), 200, site_doc, "patch")

    room_path, room_doc = f"/api/v1/rooms/{room.id}", "/rooms/{room_id}"
    conforms(client.patch(room_path, json={"capacity": 9}), 401, room_doc, "patch")
    conforms(client.patch(room_path, json={"capacity": 9}, headers=member), 403, room_doc, "patch")
    conforms(client.patch(room_path, json={"capacity": 9}, headers=manager), 200, room_doc, "patch")
