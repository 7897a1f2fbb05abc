"""The OpenAPI document and the HTML docs are generated from the registry and the schemas; a
bounded schemathesis run checks that the API keeps the promises the document makes."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import PositiveDataAcceptanceConfig

from booking.api.spec import REGISTRY
from tests.api.conftest import BERLIN, local


def test_document_describes_every_route(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    expected = {
        ("get", "/api/v1/sites"),
        ("get", "/api/v1/sites/{site_id}"),
        ("get", "/api/v1/rooms"),
        ("get", "/api/v1/rooms/{room_id}"),
        ("get", "/api/v1/rooms/{room_id}/availability"),
        ("get", "/api/v1/organisations"),
        ("post", "/api/v1/bookings"),
        ("get", "/api/v1/bookings"),
        ("get", "/api/v1/bookings/{booking_id}"),
        ("post", "/api/v1/bookings/{booking_id}/cancel"),
        ("post", "/api/v1/bookings/{booking_id}/approve"),
        ("post", "/api/v1/bookings/{booking_id}/decline"),
        ("get", "/api/v1/open-offers"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/docs"),
        ("post", "/api/v1/sites"),
        ("patch", "/api/v1/sites/{site_id}"),
        ("put", "/api/v1/sites/{site_id}/opening-hours"),
        ("post", "/api/v1/rooms"),
        ("patch", "/api/v1/rooms/{room_id}"),
        ("post", "/api/v1/closures"),
        ("post", "/api/v1/sites/{site_id}/closures/import"),
        ("put", "/api/v1/sites/{site_id}/opening-exceptions"),
        ("get", "/api/v1/audit"),
    }
    assert {(m, p) for p, ops in paths.items() for m in ops} == expected
    booking_in = document["components"]["schemas"]["BookingIn"]
    assert booking_in["properties"]["title"]["maxLength"] == 200
    assert "house_rules_accepted" in booking_in["properties"]
    assert booking_in["additionalProperties"] is False
    create = paths["/api/v1/bookings"]["post"]
    assert set(create["responses"]) >= {"201", "401", "409", "422", "429"}
    assert create["security"] == [{"bearer": []}]
    room_params = {p["name"] for p in paths["/api/v1/rooms"]["get"]["parameters"]}
    assert room_params >= {
        "site_id",
        "district",
        "min_capacity",
        "features",
        "step_free",
        "free_start",
        "free_end",
        "limit",
        "cursor",
    }
    list_bookings = {p["name"] for p in paths["/api/v1/bookings"]["get"]["parameters"]}
    assert {"status", "site_id", "room_id", "from", "to"} <= list_bookings


def test_docs_page_lists_endpoints_schemas_auth_and_limits(client):
    response = client.get("/api/v1/docs?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for op in REGISTRY:
        assert f"{op.method} /api/v1{op.path}" in html
    for text in ("Authorization: Bearer", "Retry-After", "BookingIn", "problem+json", "cursor"):
        assert text in html
    assert "cdn" not in html.lower() and "https://unpkg" not in html
    assert 'href="/api/v1/docs"' in client.get("/").get_data(as_text=True)  # site footer


@pytest.fixture
def api_schema(app, db, make_site, make_room, make_user, make_organisation, make_booking, auth):
    """Some data to find, and a token for the booking endpoints."""
    site = make_site()
    room = make_room(site, features=["projector"], hours=[(d, 480, 1320) for d in range(7)])
    club = make_organisation()
    user = make_user(organisations=[club], manages=[site])
    make_booking(user, room, local(3, 18).replace(tzinfo=BERLIN), is_public=True)
    db.session.commit()
    headers = auth(user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.headers = headers  # applied to every generated request
    # Every check runs (the CLI's `--checks all`). One is widened, for a reason: a JSON Schema
    # cannot say that the end comes after the start, that 2030-02-30 is no day, which cursors
    # this API handed out or which dates belong to a booking. Such schema-valid input is a 422,
    # and `_refused_as_documented` holds the API to the refusals each operation's 422 lists.
    acceptance = schema.config.checks.positive_data_acceptance
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*acceptance.expected_statuses, "422"]
    )
    return schema


def documented_refusals(operation: dict) -> set[str]:
    """The fields an operation's 422 answer names in its examples (input the schema allows
    that is refused all the same)."""
    content = operation["responses"].get("422", {}).get("content", {})
    examples = content.get("application/problem+json", {}).get("examples", {})
    return {e["value"]["field"] for key, e in examples.items() if key != "schema"}


def _refused_as_documented(ctx, response, case):
    """A 422 for generated schema-valid input names a field the operation's 422 lists (or a
    part of one: ``recurrence.until`` for ``recurrence``)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 422:
        return None
    body = response.json()
    allowed = documented_refusals(case.operation.definition.raw)
    field = body.get("field") or ""
    assert any(field == name or field.startswith(name + ".") for name in allowed), (
        f"schema-valid input refused: 422 `{body.get('code')}` on `{field}`, which the "
        f"operation's 422 answer does not list ({sorted(allowed)})"
    )
    return None


def test_every_schemathesis_check_is_on(api_schema):
    """No check is left out, including those a newer schemathesis adds."""
    load_all_checks()
    names = [check.__name__ for check in CHECKS.get_all() if not isinstance(check, type)]
    assert "positive_data_acceptance" in names and "negative_data_rejection" in names
    assert [n for n in names if not api_schema.config.checks.get_by_name(name=n).enabled] == []


# The registry is known at import time, so each operation is its own test; the schema itself is
# fetched from the running app, as a client would.
FUZZED = [op for op in REGISTRY if op.endpoint != "docs"]


@pytest.mark.parametrize("op", FUZZED, ids=[f"{op.method} {op.path}" for op in FUZZED])
def test_api_keeps_its_documented_promises(op, api_schema):
    operation = api_schema["/api/v1" + op.path][op.method]
    headers = api_schema.config.headers

    @given(case=operation.as_strategy())
    @settings(
        max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "25")),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case):
        # No `checks=`: every check schemathesis has, as the config above sets them.
        case.call_and_validate(headers=headers, additional_checks=[_refused_as_documented])

    run()
