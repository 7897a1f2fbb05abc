"""The document and the answers agree (#13): what the schema allows is answered as the document
says, 422s for schema-valid input are listed under the operation's 422, and what a pattern
refuses the API refuses too."""

from __future__ import annotations

import re

import pytest

from booking.models import ApprovalPolicy
from tests.api.conftest import BERLIN, assert_problem, iso, local

PAGED = ["/sites", "/rooms", "/organisations", "/open-offers", "/bookings", "/audit?site_id={site}"]


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def listed_422s(document, path: str, method: str) -> set[tuple[str, str]]:
    """(field, code) of each example of the operation's 422 answer."""
    content = document["paths"]["/api/v1" + path][method]["responses"]["422"]["content"]
    examples = content["application/problem+json"]["examples"]
    return {(e["value"]["field"], e["value"]["code"]) for e in examples.values()}


def answered_422(response) -> tuple[str, str]:
    body = assert_problem(response, 422)
    return body["field"], body["code"]


@pytest.mark.parametrize("path", PAGED)
def test_an_empty_cursor_is_the_first_page(client, make_site, make_user, auth, path, document):
    site = make_site()
    headers = auth(make_user(manages=[site]))
    url = "/api/v1" + path.format(site=site.id)
    joiner = "&" if "?" in url else "?"
    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.get_json()
    empty = client.get(f"{url}{joiner}cursor=", headers=headers)
    assert empty.status_code == 200, empty.get_json()
    assert empty.get_json()["items"] == first.get_json()["items"]
    # The document allows it (no minLength) and says what it means.
    operation = document["paths"]["/api/v1" + path.split("?")[0]]["get"]
    (cursor,) = [p for p in operation["parameters"] if p["name"] == "cursor"]
    assert cursor["schema"].get("minLength", 0) == 0
    assert "first page" in cursor["description"]


def test_a_bad_cursor_is_a_listed_422(client, document):
    response = client.get("/api/v1/organisations?cursor=bogus")
    assert answered_422(response) in listed_422s(document, "/organisations", "get")


@pytest.fixture
def booking_case(client, make_room, make_user, auth):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    headers = auth(make_user())
    body = {"room_id": room.id, "title": "Probe", "start": iso(local(9, 18))}
    return room, headers, body


def test_start_equal_to_end_is_a_listed_422(client, document, booking_case):
    _room, headers, body = booking_case
    response = client.post("/api/v1/bookings", headers=headers, json=body | {"end": body["start"]})
    assert answered_422(response) == ("end", "end_before_start")
    assert ("end", "end_before_start") in listed_422s(document, "/bookings", "post")


def test_a_day_the_calendar_lacks_is_a_listed_422(client, document, booking_case):
    room, headers, body = booking_case
    start = {"start": "2030-02-30T18:00", "end": "2030-02-30T19:00"}
    assert re.fullmatch(_timestamp_pattern(document), start["start"])  # the schema allows it
    response = client.post("/api/v1/bookings", headers=headers, json=body | start)
    assert answered_422(response) in listed_422s(document, "/bookings", "post")
    window = client.get(f"/api/v1/rooms/{room.id}/availability?start=2030-04-31T00:00&end=x")
    assert answered_422(window) in listed_422s(document, "/rooms/{room_id}/availability", "get")


@pytest.mark.parametrize("action", ["cancel", "approve", "decline"])
def test_dates_of_another_booking_are_a_listed_422(
    client, document, make_site, make_room, make_user, make_booking, auth, action
):
    site = make_site()
    room = make_room(site, approval_policy=ApprovalPolicy.MANUAL)
    requester, manager = make_user(), make_user(manages=[site])
    mine = make_booking(requester, room, local(9, 18).replace(tzinfo=BERLIN))
    other = make_booking(requester, room, local(10, 18).replace(tzinfo=BERLIN))
    headers = auth(requester if action == "cancel" else manager)
    response = client.post(
        f"/api/v1/bookings/{mine.id}/{action}",
        headers=headers,
        json={"occurrence_ids": [other.occurrences[0].id], "reason": "x"}
        if action == "decline"
        else {"occurrence_ids": [other.occurrences[0].id]},
    )
    assert answered_422(response) == ("occurrence_ids", "unknown_dates")
    path = "/bookings/{booking_id}/" + action
    assert ("occurrence_ids", "unknown_dates") in listed_422s(document, path, "post")


def _timestamp_pattern(document) -> str:
    params = document["paths"]["/api/v1/rooms/{room_id}/availability"]["get"]["parameters"]
    (start,) = [p for p in params if p["name"] == "start"]
    return start["schema"]["pattern"]


@pytest.mark.parametrize(
    "value",
    [
        "2030-01-07T18:00",
        "2030-01-07 18:00:30",
        "2030-01-07T18:00:00.5+01:00",
        "2030-01-07T17:00Z",
        "2030-01-07",  # a bare date
        "2030-13-07T18:00",
        "2030-01-07T24:00",
        "2030-01-07T18:00+0100",
        "2030-01-07t18:00",
        "1700000000",  # a Unix time
        "0000-01-07T18:00",
        "2201-01-07T18:00",
    ],
)
def test_the_timestamp_pattern_is_the_whole_promise(client, document, make_room, value):
    """A time the pattern allows is taken, one it refuses is a 422: a client can rely on the
    document either way."""
    room = make_room()
    allowed = re.fullmatch(_timestamp_pattern(document), value) is not None
    end = "2030-01-08T18:00" if value.startswith("2030") else "2030-01-01T00:00"
    query = {"start": value, "end": end}
    response = client.get(f"/api/v1/rooms/{room.id}/availability", query_string=query)
    if allowed:
        assert response.status_code == 200, response.get_json()
    else:
        assert answered_422(response)[0] == "start"


def test_local_start_is_declared_as_what_it_is(document):
    conflict = document["components"]["schemas"]["ConflictDate"]["properties"]
    assert conflict["local_start"]["format"] == "date-time"
    example = document["paths"]["/api/v1/bookings"]["post"]["responses"]["409"]["content"]
    (date,) = example["application/problem+json"]["example"]["conflicts"]
    assert date["local_start"].endswith("+02:00")  # October in Berlin


def test_an_empty_ics_body_is_refused_by_the_schema_too(document):
    operation = document["paths"]["/api/v1/sites/{site_id}/closures/import"]["post"]
    schema = operation["requestBody"]["content"]["text/calendar"]["schema"]
    assert schema["minLength"] == 1 and not re.search(schema["pattern"], "  \n")
