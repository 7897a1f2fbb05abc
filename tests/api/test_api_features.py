"""Room features in the API come from the equipment list administrators keep (#11): an unknown
key is a 422 naming ``features``, a newly added feature is accepted and found, a deactivated
one is no longer a filter nor newly given to a room."""

from __future__ import annotations

from booking.services import features
from tests.api.conftest import assert_problem


def test_unknown_features_are_refused_and_a_new_one_is_accepted(
    client, db, make_site, make_room, make_user, auth
):
    site = make_site()
    manager = auth(make_user(manages=[site]))
    admin = make_user(is_admin=True)

    unknown = client.post(
        "/api/v1/rooms",
        json={"site_id": site.id, "name": "Saal", "capacity": 50, "features": ["hdmi_projector"]},
        headers=manager,
    )
    body = assert_problem(unknown, 422, "feature_unknown", "features")
    assert "hdmi_projector" in body["detail"]  # the unknown key is named
    assert_problem(client.get("/api/v1/rooms?features=hdmi_projector"), 422, "invalid", "features")
    malformed = client.post(
        "/api/v1/rooms",
        json={"site_id": site.id, "name": "Saal", "capacity": 50, "features": ["Beamer!"]},
        headers=manager,
    )
    assert_problem(malformed, 422, field="features.0")

    features.create_feature(
        admin,
        features.FeatureCommand(label_de="Beamer mit HDMI", label_en="HDMI projector"),
    )
    db.session.commit()
    created = client.post(
        "/api/v1/rooms",
        json={"site_id": site.id, "name": "Saal", "capacity": 50, "features": ["hdmi_projector"]},
        headers=manager,
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["features"] == ["hdmi_projector"]
    make_room(site, name="Ohne", features=["wifi"])
    found = client.get("/api/v1/rooms?features=hdmi_projector").get_json()
    assert [r["name"] for r in found["items"]] == ["Saal"]


def test_a_deactivated_feature_is_kept_but_not_newly_given_or_searched(
    client, db, make_site, make_room, make_user, auth
):
    site = make_site()
    manager = auth(make_user(manages=[site]))
    room = make_room(site, name="Musikraum", features=["piano"])
    plain = make_room(site, name="Gruppenraum")
    features.set_active(make_user(is_admin=True), "piano", False)
    db.session.commit()

    assert_problem(client.get("/api/v1/rooms?features=piano"), 422, "invalid", "features")
    refused = client.patch(
        f"/api/v1/rooms/{plain.id}", json={"features": ["piano"]}, headers=manager
    )
    assert_problem(refused, 422, "feature_inactive", "features")
    kept = client.patch(f"/api/v1/rooms/{room.id}", json={"capacity": 12}, headers=manager)
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["features"] == ["piano"]
    assert client.get(f"/api/v1/rooms/{room.id}").get_json()["features"] == ["piano"]


def test_the_openapi_document_describes_features_as_keys(client, db):
    document = client.get("/api/v1/openapi.json").get_json()
    room_in = document["components"]["schemas"]["RoomIn"]["properties"]["features"]
    assert room_in["type"] == "array"
    assert room_in["items"]["type"] == "string" and "enum" not in room_in["items"]
    assert "equipment list" in room_in["description"]
    param = next(
        p
        for p in document["paths"]["/api/v1/rooms"]["get"]["parameters"]
        if p["name"] == "features"
    )
    assert "enum" not in str(param) and "equipment list" in param["description"]
