"""Sites and rooms in the API carry what the administration sets (#11): a room's limits,
buffers and parts, a site's contact, opening hours and state; PATCH answers have the same shape
as GET answers."""

from __future__ import annotations

from booking.models import ApprovalPolicy, OpeningWindow

ROOM_FIELDS = {
    "min_lead_minutes",
    "max_advance_days",
    "min_duration_minutes",
    "max_duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "approval_policy",
    "parent_id",
    "part_ids",
    "active",
}
SITE_FIELDS = {
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "timezone",
    "active",
    "opening_hours",
}


def _hall(db, make_site, make_room):
    site = make_site(
        name="Gesamtschule Seilersee",
        contact_name="Hausmeister Bernd Kowalski",
        contact_phone="02371 217-0",
        contact_email="hausmeister@gesamtschule.example.org",
        city="Iserlohn",
    )
    db.session.add_all(
        [
            OpeningWindow(site_id=site.id, weekday=0, opens=16 * 60, closes=22 * 60),
            OpeningWindow(site_id=site.id, weekday=5, opens=9 * 60, closes=24 * 60),
        ]
    )
    hall = make_room(
        site,
        name="Dreifachhalle",
        approval_policy=ApprovalPolicy.TRUSTED,
        min_lead_minutes=48 * 60,
        max_advance_days=180,
        min_duration_minutes=60,
        buffer_before_minutes=15,
        buffer_after_minutes=30,
    )
    parts = [make_room(site, name=f"Drittel {n}", parent=hall) for n in (1, 2, 3)]
    parts[2].active = False
    hall.max_duration_minutes = None  # no limit (on insert, None would take the default)
    db.session.commit()
    return site, hall, parts


def test_a_room_answers_its_limits_buffers_and_parts(client, db, make_site, make_room):
    site, hall, parts = _hall(db, make_site, make_room)
    body = client.get(f"/api/v1/rooms/{hall.id}").get_json()
    assert body["min_lead_minutes"] == 48 * 60
    assert body["max_advance_days"] == 180
    assert body["min_duration_minutes"] == 60
    assert body["max_duration_minutes"] is None
    assert (body["buffer_before_minutes"], body["buffer_after_minutes"]) == (15, 30)
    assert body["approval_policy"] == "trusted"
    assert body["parent_id"] is None
    assert body["part_ids"] == [parts[0].id, parts[1].id]  # the deactivated third is left out
    assert body["active"] is True
    part = client.get(f"/api/v1/rooms/{parts[0].id}").get_json()
    assert part["parent_id"] == hall.id and part["part_ids"] == []
    # The old fields stay as they were.
    assert {"id", "site_id", "name", "capacity", "features", "house_rules", "links"} <= set(body)

    listed = client.get(f"/api/v1/rooms?site_id={site.id}").get_json()["items"]
    by_id = {r["id"]: r for r in listed}
    assert set(by_id) == {hall.id, parts[0].id, parts[1].id}
    assert by_id[hall.id] == body


def test_a_site_answers_its_contact_hours_and_state(client, db, make_site, make_room):
    site, _hall_room, _parts = _hall(db, make_site, make_room)
    body = client.get(f"/api/v1/sites/{site.id}").get_json()
    assert body["contact_name"] == "Hausmeister Bernd Kowalski"
    assert body["contact_phone"] == "02371 217-0"
    assert body["contact_email"] == "hausmeister@gesamtschule.example.org"
    assert body["address"] == {"street": site.street, "postcode": "58636", "city": "Iserlohn"}
    assert body["timezone"] == "Europe/Berlin"
    assert body["active"] is True
    assert body["opening_hours"] == [
        {"weekday": 0, "opens": "16:00", "closes": "22:00"},
        {"weekday": 5, "opens": "09:00", "closes": "24:00"},
    ]
    listed = client.get("/api/v1/sites").get_json()["items"]
    assert [s for s in listed if s["id"] == site.id] == [body]
    # A site without windows is open at any time: an empty list, not a missing field.
    other = make_site()
    db.session.commit()
    assert client.get(f"/api/v1/sites/{other.id}").get_json()["opening_hours"] == []


def test_the_public_site_page_shows_the_same_contact(client, db, make_site, make_room):
    site, _hall_room, _parts = _hall(db, make_site, make_room)
    html = client.get(f"/sites/{site.id}").text
    for text in (
        "Hausmeister Bernd Kowalski",
        "02371 217-0",
        "mailto:hausmeister@gesamtschule.example.org",
    ):
        assert text in html, text


def test_patch_answers_have_the_get_shape(client, db, make_site, make_room, make_user, auth):
    site, hall, _parts = _hall(db, make_site, make_room)
    manager = auth(make_user(manages=[site]))
    admin = auth(make_user(is_admin=True))

    room = client.patch(
        f"/api/v1/rooms/{hall.id}",
        json={"buffer_after_minutes": 45, "max_advance_days": None},
        headers=manager,
    )
    assert room.status_code == 200, room.get_json()
    patched = room.get_json()
    assert (patched["buffer_after_minutes"], patched["max_advance_days"]) == (45, None)
    fetched = client.get(f"/api/v1/rooms/{hall.id}").get_json()
    assert patched == fetched
    assert set(patched) >= ROOM_FIELDS

    answer = client.patch(
        f"/api/v1/sites/{site.id}", json={"contact_phone": "02371 999"}, headers=manager
    ).get_json()
    assert answer == client.get(f"/api/v1/sites/{site.id}").get_json()
    assert answer["contact_phone"] == "02371 999" and set(answer) >= SITE_FIELDS

    # Deactivated: the answer says so, and the public GET no longer finds it.
    closed = client.patch(f"/api/v1/sites/{site.id}", json={"active": False}, headers=admin)
    assert closed.status_code == 200 and closed.get_json()["active"] is False
    assert client.get(f"/api/v1/sites/{site.id}").status_code == 404


def test_a_get_answer_can_be_sent_back_as_a_patch(
    client, db, make_site, make_room, make_user, auth
):
    """The room's fields have the names the PATCH body takes: a client can copy them over."""
    site, hall, _parts = _hall(db, make_site, make_room)
    manager = auth(make_user(manages=[site]))
    body = client.get(f"/api/v1/rooms/{hall.id}").get_json()
    writable = ROOM_FIELDS - {"part_ids"}
    answer = client.patch(
        f"/api/v1/rooms/{hall.id}", json={k: body[k] for k in writable}, headers=manager
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == body


def test_the_openapi_document_describes_the_new_fields(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    room = schemas["RoomOut"]
    site = schemas["SiteOut"]
    assert set(room["properties"]) >= ROOM_FIELDS and set(room["required"]) >= ROOM_FIELDS
    assert set(site["properties"]) >= SITE_FIELDS and set(site["required"]) >= SITE_FIELDS
