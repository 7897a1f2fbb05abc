"""Public read endpoints: sites, rooms, availability, organisations, open offers; CORS."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.extensions import db
from booking.models import ApprovalPolicy, SiteKind
from tests.api.conftest import BERLIN, assert_problem, iso, local


def test_sites_list_and_detail_with_kind_district_address(client, make_site):
    site = make_site(name="Stadtbücherei", kind=SiteKind.LIBRARY, district="Innenstadt")
    make_site(active=False)
    db.session.commit()

    listing = client.get("/api/v1/sites")
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert [s["id"] for s in items] == [site.id]  # inactive sites are not listed
    assert items[0]["kind"] == "library"
    assert items[0]["district"] == "Innenstadt"
    assert items[0]["address"]["postcode"] == "58636"

    detail = client.get(f"/api/v1/sites/{site.id}").get_json()
    assert detail["name"] == "Stadtbücherei"
    assert detail["links"]["rooms"].endswith(f"/api/v1/rooms?site_id={site.id}")
    assert_problem(client.get("/api/v1/sites/999999"), 404, "not_found")
    assert_problem(client.get("/api/v1/sites/99999999999999999999"), 404, "not_found")


def test_room_carries_policy_features_and_links(client, make_room):
    room = make_room(
        features=["projector", "wifi"],
        step_free=True,
        approval_policy=ApprovalPolicy.TRUSTED,
        house_rules="Bitte aufräumen.",
    )
    db.session.commit()
    body = client.get(f"/api/v1/rooms/{room.id}").get_json()
    assert body["id"] == room.id
    assert body["site_id"] == room.site_id
    assert body["capacity"] == 30
    assert body["features"] == ["projector", "wifi"]
    assert body["step_free"] is True
    assert body["approval_policy"] == "trusted"
    assert body["house_rules"] == "Bitte aufräumen."
    assert body["links"]["feed"].endswith(f"/ical/rooms/{room.id}.ics")
    assert body["links"]["web"].endswith(f"/rooms/{room.id}")
    # The API links lead where they say, in a single room and in the list (a search answer).
    listed = client.get("/api/v1/rooms").get_json()["items"][0]["links"]
    assert listed == body["links"]
    assert client.get(body["links"]["self"]).get_json()["id"] == room.id
    availability = client.get(
        body["links"]["availability"],
        query_string={"start": "2026-10-05T00:00", "end": "2026-10-06T00:00"},
    )
    assert availability.status_code == 200
    assert_problem(client.get("/api/v1/rooms/424242"), 404, "not_found")


def test_room_filters_combine(client, make_site, make_room):
    north = make_site(district="Letmathe")
    south = make_site(district="Hennen")
    big = make_room(north, capacity=100, features=["projector", "stage"])
    small_free = make_room(north, capacity=12, step_free=True, features=["projector"])
    other = make_room(south, capacity=60, step_free=True)
    db.session.commit()

    def ids(query: str) -> list[int]:
        response = client.get("/api/v1/rooms" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["id"] for r in response.get_json()["items"]]

    assert ids("") == [big.id, small_free.id, other.id]
    assert ids(f"?site_id={north.id}") == [big.id, small_free.id]
    assert ids("?district=Hennen") == [other.id]
    assert ids("?min_capacity=50") == [big.id, other.id]
    assert ids("?features=projector") == [big.id, small_free.id]
    assert ids("?features=projector,stage") == [big.id]  # all features required
    assert ids("?step_free=true") == [small_free.id, other.id]
    assert ids("?step_free=true&district=Letmathe&features=projector") == [small_free.id]
    assert_problem(client.get("/api/v1/rooms?features=jacuzzi"), 422, "invalid", "features")
    assert_problem(client.get("/api/v1/rooms?min_capacity=lots"), 422, "invalid", "min_capacity")
    assert_problem(client.get("/api/v1/rooms?step_free=perhaps"), 422, "invalid", "step_free")
    assert_problem(client.get("/api/v1/rooms?district=a%00b"), 422, "invalid", "district")


def test_free_slot_filter_respects_bookings_and_opening_hours(
    client, make_site, make_room, make_user, make_booking
):
    site = make_site()
    evening = [(d, 8 * 60, 22 * 60) for d in range(7)]
    taken = make_room(site, hours=evening)
    free = make_room(site, hours=evening)
    closes_early = make_room(site, hours=[(d, 8 * 60, 17 * 60) for d in range(7)])
    user = make_user()
    start = local(10, 18)
    make_booking(user, taken, start.replace(tzinfo=BERLIN), 60)

    query = f"?free_start={iso(start)}&free_end={iso(start + timedelta(hours=2))}"
    body = client.get("/api/v1/rooms" + query).get_json()
    assert [r["id"] for r in body["items"]] == [free.id]
    assert closes_early.id not in [r["id"] for r in body["items"]]

    later = f"?free_start={iso(local(10, 19, 30))}&free_end={iso(local(10, 21))}"
    assert {r["id"] for r in client.get("/api/v1/rooms" + later).get_json()["items"]} == {
        taken.id,
        free.id,
    }
    missing = client.get(f"/api/v1/rooms?free_start={iso(start)}")
    assert_problem(missing, 422, "time_incomplete", "free_end")
    backwards = f"?free_start={iso(start)}&free_end={iso(start - timedelta(hours=1))}"
    assert_problem(client.get("/api/v1/rooms" + backwards), 422, "end_before_start", "free_end")


def test_availability_hides_private_details(
    client, make_site, make_room, make_user, make_organisation, make_booking
):
    site = make_site()
    room = make_room(site, hours=[(d, 9 * 60, 21 * 60) for d in range(7)])
    organisation = make_organisation(name="Chor Letmathe")
    user = make_user(organisations=[organisation])
    make_booking(user, room, local(5, 10).replace(tzinfo=BERLIN), 60, title="Geheimes Treffen")
    make_booking(
        user,
        room,
        local(5, 15).replace(tzinfo=BERLIN),
        120,
        title="Offenes Singen",
        is_public=True,
        organisation_id=organisation.id,
    )

    response = client.get(
        f"/api/v1/rooms/{room.id}/availability?start={iso(local(5, 0))}&end={iso(local(6, 0))}"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert "Geheimes Treffen" not in response.get_data(as_text=True)
    private, public = body["busy"]
    assert private["title"] is None and private["organisation"] is None
    assert private["public"] is False
    assert datetime.fromisoformat(private["start"]) == local(5, 10).replace(tzinfo=BERLIN)
    assert public["title"] == "Offenes Singen"
    assert public["organisation"] == "Chor Letmathe"
    free = [
        (datetime.fromisoformat(f["start"]), datetime.fromisoformat(f["end"])) for f in body["free"]
    ]
    expected = [(9, 10), (11, 15), (17, 21)]  # only within opening hours
    assert free == [
        (local(5, a).replace(tzinfo=BERLIN), local(5, b).replace(tzinfo=BERLIN))
        for a, b in expected
    ]


def test_availability_rejects_bad_windows(client, make_room):
    room = make_room()
    db.session.commit()
    url = f"/api/v1/rooms/{room.id}/availability"
    assert_problem(client.get(url), 422, "invalid", "start")
    assert_problem(
        client.get(f"{url}?start={iso(local(1, 10))}&end={iso(local(1, 9))}"), 422, field="end"
    )
    assert_problem(
        client.get(f"{url}?start={iso(local(1, 10))}&end={iso(local(200, 9))}"), 422, field="end"
    )
    assert_problem(client.get(f"{url}?start=yesterday&end=today"), 422, field="start")
    assert_problem(
        client.get(f"{url}?start=99999-01-01T00:00&end={iso(local(1, 9))}"), 422, field="start"
    )


def test_organisations_directory(client, make_organisation):
    """The same opt-in as the web directory: only listed organisations, with their public
    contact address; nothing of the others."""
    first = make_organisation(
        name="TuS Iserlohn", district="Innenstadt", email="info@tus.example.org", listed=True
    )
    make_organisation(name="Schachfreunde", listed=True)
    make_organisation(name="Stiller Verein", email="vorstand@still.example.org")
    db.session.commit()
    body = client.get("/api/v1/organisations").get_json()
    assert [o["name"] for o in body["items"]] == ["TuS Iserlohn", "Schachfreunde"]
    assert body["items"][0]["id"] == first.id
    assert body["items"][0]["district"] == "Innenstadt"
    assert body["items"][0]["kind"] == "association"
    assert body["items"][0]["email"] == "info@tus.example.org"
    assert body["items"][1]["email"] == ""
    assert "Stiller Verein" not in str(body) and "vorstand@still" not in str(body)


def test_open_offers_lists_only_upcoming_public_approved(
    client, make_room, make_user, make_booking
):
    room = make_room()
    user = make_user()
    later = make_booking(
        user, room, local(9, 18).replace(tzinfo=BERLIN), title="Lesecafé", is_public=True
    )
    sooner = make_booking(
        user, room, local(3, 18).replace(tzinfo=BERLIN), title="Repaircafé", is_public=True
    )
    make_booking(user, room, local(4, 18).replace(tzinfo=BERLIN), title="Privat")
    body = client.get("/api/v1/open-offers").get_json()
    assert [o["booking_id"] for o in body["items"]] == [sooner.id, later.id]
    assert body["items"][0]["title"] == "Repaircafé"
    assert body["items"][0]["room_id"] == room.id


def test_pagination_is_stable_and_complete(client, make_organisation):
    created = [make_organisation(listed=True).id for _ in range(7)]
    db.session.commit()
    url, seen = "/api/v1/organisations?limit=3", []
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert body["limit"] == 3
        seen.extend(o["id"] for o in body["items"])
        if pages == 0:
            make_organisation(listed=True)  # added while paging: at the end, nothing shifts
            db.session.commit()
        url = body["next"]
        pages += 1
    assert seen[:7] == sorted(created)
    assert len(seen) == len(set(seen)) == 8
    assert pages == 3
    assert_problem(client.get("/api/v1/organisations?limit=0"), 422, field="limit")
    assert_problem(client.get("/api/v1/organisations?limit=201"), 422, field="limit")
    assert_problem(client.get("/api/v1/organisations?cursor=bogus"), 422, field="cursor")
    huge = "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"  # [99999999999999999999999]
    assert_problem(client.get(f"/api/v1/organisations?cursor={huge}"), 422, field="cursor")


def test_open_offers_pagination_keeps_order(client, make_room, make_user, make_booking):
    room = make_room()
    user = make_user()
    for day in (6, 2, 4, 8, 3):
        make_booking(user, room, local(day, 18).replace(tzinfo=BERLIN), is_public=True)
    url, starts = "/api/v1/open-offers?limit=2", []
    while url:
        body = client.get(url).get_json()
        starts.extend(o["start"] for o in body["items"])
        url = body["next"]
    assert len(starts) == 5
    assert starts == sorted(starts, key=datetime.fromisoformat)


def test_cors_allows_public_reads_from_any_origin_only(client, make_room, make_user, auth):
    room = make_room()
    user = make_user()
    headers = auth(user)
    origin = {"Origin": "https://app.iserlohn.de"}
    for path in ("/api/v1/rooms", f"/api/v1/rooms/{room.id}", "/api/v1/openapi.json"):
        response = client.get(path, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/api/v1/rooms", headers=origin | {"Access-Control-Request-Method": "GET"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in preflight.headers.get("Access-Control-Allow-Methods", "")

    booking_preflight = client.options(
        "/api/v1/bookings",
        headers=origin
        | {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "Access-Control-Allow-Origin" not in booking_preflight.headers
    listing = client.get("/api/v1/bookings", headers=origin | headers)
    assert listing.status_code == 200
    assert "Access-Control-Allow-Origin" not in listing.headers
    post = client.post("/api/v1/bookings", headers=origin | headers, json={})
    assert "Access-Control-Allow-Origin" not in post.headers


def test_invalid_token_is_refused_even_on_public_data(client):
    response = client.get("/api/v1/rooms", headers={"Authorization": "Bearer nope"})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_changed_room_is_listed_as_it_is_now(client, make_room):
    """The API keeps rooms as served per catalogue version: a change shows at once."""
    room = make_room(name="Alter Name", capacity=20)
    db.session.commit()
    first = client.get("/api/v1/rooms").get_json()["items"]
    assert [(r["name"], r["part_ids"]) for r in first] == [("Alter Name", [])]
    room.name = "Neuer Name"
    room.capacity = 25
    db.session.commit()
    assert [
        (r["name"], r["capacity"]) for r in client.get("/api/v1/rooms").get_json()["items"]
    ] == [("Neuer Name", 25)]
    part = make_room(room.site, name="Teil", parent=room)
    db.session.commit()
    listed = {r["id"]: r["part_ids"] for r in client.get("/api/v1/rooms").get_json()["items"]}
    assert listed == {room.id: [part.id], part.id: []}
    room.features = ["projector"]
    db.session.commit()
    assert client.get("/api/v1/rooms?features=projector").get_json()["items"][0]["features"] == [
        "projector"
    ]
