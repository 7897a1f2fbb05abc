"""Booking endpoints: create, conflicts, validation, visibility, cancel/approve/decline, auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import ApiToken, ApprovalPolicy, Booking, Occurrence
from tests.api.conftest import BERLIN, assert_problem, iso, local


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _body(room, start, end, **extra):
    return {"room_id": room.id, "title": "Chorprobe", "start": iso(start), "end": iso(end), **extra}


def test_create_single_booking_reads_naive_time_in_site_zone(client, make_room, make_user, auth):
    room = make_room()
    user = make_user()
    headers = auth(user)
    start = local(14, 18)
    response = client.post(
        "/api/v1/bookings", headers=headers, json=_body(room, start, local(14, 20), attendees=12)
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["room_id"] == room.id
    assert body["title"] == "Chorprobe"
    assert body["attendees"] == 12
    (occurrence,) = body["occurrences"]
    assert occurrence["status"] == "approved"  # the room approves automatically
    assert datetime.fromisoformat(occurrence["start"]) == start.replace(tzinfo=BERLIN)
    stored = db.session.get(Occurrence, occurrence["id"])
    assert stored.starts_at == start.replace(tzinfo=BERLIN).astimezone(UTC)

    again = client.get(f"/api/v1/bookings/{body['id']}", headers=headers)
    assert again.status_code == 200
    assert again.get_json() == body


def test_offset_time_is_honoured(client, make_room, make_user, auth):
    room = make_room()
    headers = auth(make_user())
    start = local(20, 17).replace(tzinfo=UTC)
    response = client.post(
        "/api/v1/bookings",
        headers=headers,
        json=_body(room, start, start + timedelta(hours=1)),
    )
    assert response.status_code == 201
    occurrence = response.get_json()["occurrences"][0]
    assert datetime.fromisoformat(occurrence["start"]) == start


def test_manual_room_books_pending_series(client, make_room, make_user, auth):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    headers = auth(make_user())
    body = _body(
        room,
        local(7, 18),
        local(7, 19),
        recurrence={"freq": "weekly", "count": 4},
    )
    response = client.post("/api/v1/bookings", headers=headers, json=body)
    assert response.status_code == 201
    occurrences = response.get_json()["occurrences"]
    assert [o["status"] for o in occurrences] == ["pending"] * 4
    starts = [datetime.fromisoformat(o["start"]).astimezone(BERLIN) for o in occurrences]
    # Weekly in local wall time: same clock time every week, across a DST change too.
    assert [s.replace(tzinfo=None) for s in starts] == [local(7 + 7 * i, 18) for i in range(4)]
    assert response.get_json()["rrule"] == "FREQ=WEEKLY;COUNT=4"


def test_conflict_lists_every_date_and_writes_nothing(
    client, make_room, make_user, make_booking, auth
):
    room = make_room()
    owner = make_user()
    make_booking(owner, room, local(7, 18).replace(tzinfo=BERLIN), 60)
    make_booking(owner, room, local(21, 18).replace(tzinfo=BERLIN), 60)
    headers = auth(make_user())
    bookings_before, occurrences_before = _count(Booking), _count(Occurrence)

    body = _body(
        room, local(7, 18, 30), local(7, 19, 30), recurrence={"freq": "weekly", "count": 4}
    )
    response = client.post("/api/v1/bookings", headers=headers, json=body)
    problem = assert_problem(response, 409, "conflict")
    conflicts = problem["conflicts"]
    # The site's wall time with its offset: an RFC 3339 date-time, as the document declares.
    assert [c["local_start"] for c in conflicts] == [
        local(7, 18, 30).replace(tzinfo=BERLIN).isoformat(),
        local(21, 18, 30).replace(tzinfo=BERLIN).isoformat(),
    ]
    assert [datetime.fromisoformat(c["local_start"]) for c in conflicts] == [
        datetime.fromisoformat(c["start"]) for c in conflicts
    ]
    assert all(r["reason"] == "taken" for c in conflicts for r in c["reasons"])
    assert _count(Booking) == bookings_before
    assert _count(Occurrence) == occurrences_before


def test_conflict_reasons_include_closed_hours(client, make_room, make_user, auth):
    room = make_room(hours=[(d, 8 * 60, 20 * 60) for d in range(7)])
    headers = auth(make_user())
    response = client.post(
        "/api/v1/bookings", headers=headers, json=_body(room, local(5, 19), local(5, 21))
    )
    problem = assert_problem(response, 409, "conflict")
    assert problem["conflicts"][0]["reasons"][0]["reason"] == "outside_opening_hours"


def test_never_valid_input_is_422_before_any_conflict_check(
    client, make_room, make_user, make_booking, auth
):
    room = make_room()
    make_booking(make_user(), room, local(7, 18).replace(tzinfo=BERLIN), 60)
    headers = auth(make_user())
    taken = (local(7, 18), local(7, 19))

    def post(**changes):
        return client.post("/api/v1/bookings", headers=headers, json=_body(room, *taken) | changes)

    problem = assert_problem(post(end=iso(local(7, 17))), 422, "end_before_start", "end")
    assert problem["type"].endswith("/invalid")  # the kind of problem; `code` is the precise one
    assert_problem(post(title="x" * 100_000), 422, "invalid", "title")  # the schema's limit
    assert_problem(post(title="   "), 422, "title_missing", "title")
    assert_problem(post(recurrence={"freq": "weekly", "count": 501}), 422, field="recurrence.count")
    assert_problem(
        post(recurrence={"freq": "daily", "until": (local(800, 0).date()).isoformat()}),
        422,
        field="recurrence.until",
    )
    assert_problem(post(recurrence={"freq": "hourly", "count": 2}), 422, field="recurrence.freq")
    assert_problem(post(recurrence={"freq": "weekly"}), 422, field="recurrence.until")
    assert_problem(post(attendees=0), 422, field="attendees")
    assert_problem(post(attendees=10**30), 422, field="attendees")
    assert_problem(post(room_id=10**30), 422, field="room_id")
    assert_problem(post(start="tomorrow"), 422, field="start")
    assert_problem(post(title="a\x00b"), 422, field="title")
    assert_problem(post(colour="red"), 422, field="colour")
    assert_problem(post(organisation_id=424242), 422, field="organisation_id")
    assert_problem(post(room_id=424242), 404, "not_found")
    assert _count(Booking) == 1


def test_house_rules_must_be_accepted(client, make_room, make_user, auth):
    room = make_room(house_rules="Nach 22 Uhr Ruhe.")
    headers = auth(make_user())
    body = _body(room, local(9, 18), local(9, 19))
    assert_problem(
        client.post("/api/v1/bookings", headers=headers, json=body),
        422,
        "house_rules_not_accepted",
        "house_rules_accepted",
    )
    accepted = client.post(
        "/api/v1/bookings", headers=headers, json=body | {"house_rules_accepted": True}
    )
    assert accepted.status_code == 201


def test_bad_bodies_are_problems_not_500(client, make_user, auth):
    headers = auth(make_user())
    url = "/api/v1/bookings"
    assert_problem(
        client.post(url, headers=headers, data="{nope", content_type="application/json"),
        400,
        "malformed_json",
    )
    assert_problem(client.post(url, headers=headers, data="a=b"), 415, "unsupported_media_type")
    assert_problem(client.post(url, headers=headers, json=[1, 2]), 422, field="body")
    assert_problem(client.post(url, headers=headers, json="text"), 422, field="body")
    assert_problem(
        client.post(url, headers=headers, data="", content_type="application/json"),
        422,
        field="body",
    )
    assert_problem(
        client.post(url, headers=headers, data=b"\xff\xfe", content_type="application/json"),
        400,
    )
    huge = {"title": "x" * 300_000}
    assert_problem(client.post(url, headers=headers, json=huge), 413, "too_large")


def test_organisation_booking_needs_membership(
    client, make_room, make_user, make_organisation, auth
):
    room = make_room()
    club = make_organisation()
    outsider = auth(make_user())
    member = auth(make_user(organisations=[club]))
    body = _body(room, local(8, 18), local(8, 19), organisation_id=club.id)
    assert_problem(client.post("/api/v1/bookings", headers=outsider, json=body), 403)
    response = client.post("/api/v1/bookings", headers=member, json=body)
    assert response.status_code == 201
    assert response.get_json()["organisation_id"] == club.id


def test_authentication_is_required_and_checked(client, make_room, make_user, token_for):
    room = make_room()
    user = make_user()
    body = _body(room, local(8, 18), local(8, 19))
    missing = client.post("/api/v1/bookings", json=body)
    assert_problem(missing, 401, "unauthorized")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post("/api/v1/bookings", json=body, headers={"Authorization": "Bearer x"})
    assert_problem(wrong, 401)
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    basic = client.get("/api/v1/bookings", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_problem(basic, 401)

    from booking.api.tokens import revoke_token

    plain = token_for(user)
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200
    token_id = db.session.scalars(select(ApiToken.id)).one()
    revoke_token(user, token_id)
    db.session.commit()
    assert_problem(client.get("/api/v1/bookings", headers=headers), 401)

    fresh = {"Authorization": f"Bearer {token_for(user)}"}
    user.active = False  # a disabled account's tokens stop working too
    db.session.commit()
    assert_problem(client.get("/api/v1/bookings", headers=fresh), 401)


def test_token_records_last_use(client, make_user, token_for):
    user = make_user()
    plain = token_for(user)
    assert db.session.scalars(select(ApiToken)).one().last_used_at is None
    client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {plain}"})
    db.session.rollback()
    assert db.session.scalars(select(ApiToken)).one().last_used_at is not None


def test_login_cookie_is_not_accepted_by_the_api(app, client, make_room, make_user):
    from tests.conftest import PASSWORD

    room = make_room()
    user = make_user()
    db.session.commit()
    login = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert login.status_code == 302
    response = client.post("/api/v1/bookings", json=_body(room, local(8, 18), local(8, 19)))
    assert_problem(response, 401)
    assert _count(Booking) == 0


def test_listing_shows_own_organisation_and_managed_bookings_only(
    client, make_site, make_room, make_user, make_organisation, make_booking, auth
):
    site, elsewhere = make_site(), make_site()
    room, other_room = make_room(site), make_room(elsewhere)
    club = make_organisation()
    member = make_user(organisations=[club])
    colleague = make_user(organisations=[club])
    stranger = make_user()
    manager = make_user(manages=[site])
    mine = make_booking(member, room, local(3, 10).replace(tzinfo=BERLIN))
    clubs = make_booking(
        colleague, other_room, local(3, 12).replace(tzinfo=BERLIN), organisation_id=club.id
    )
    strangers = make_booking(stranger, room, local(3, 14).replace(tzinfo=BERLIN))
    strangers_elsewhere = make_booking(stranger, other_room, local(3, 16).replace(tzinfo=BERLIN))

    def ids(headers, query="") -> list[int]:
        response = client.get("/api/v1/bookings" + query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [b["id"] for b in response.get_json()["items"]]

    member_headers = auth(member)
    assert ids(member_headers) == [mine.id, clubs.id]
    assert ids(auth(stranger)) == [strangers.id, strangers_elsewhere.id]
    manager_headers = auth(manager)
    assert ids(manager_headers) == [mine.id, strangers.id]
    assert ids(member_headers, f"?room_id={other_room.id}") == [clubs.id]
    assert ids(member_headers, f"?site_id={site.id}") == [mine.id]
    assert ids(member_headers, "?status=cancelled") == []
    assert ids(member_headers, f"?from={iso(local(3, 11))}") == [clubs.id]
    assert ids(member_headers, f"?to={iso(local(3, 11))}") == [mine.id]
    assert_problem(
        client.get("/api/v1/bookings?status=lost", headers=member_headers), 422, field="status"
    )

    assert client.get(f"/api/v1/bookings/{clubs.id}", headers=member_headers).status_code == 200
    assert_problem(
        client.get(f"/api/v1/bookings/{strangers.id}", headers=member_headers), 404, "not_found"
    )
    assert_problem(client.get(f"/api/v1/bookings/{strangers.id}"), 401)


def test_cancel_whole_booking_and_single_dates(client, make_room, make_user, auth):
    room = make_room()
    user = make_user()
    headers = auth(user)
    created = client.post(
        "/api/v1/bookings",
        headers=headers,
        json=_body(room, local(7, 18), local(7, 19), recurrence={"freq": "weekly", "count": 3}),
    ).get_json()
    first, *_later = created["occurrences"]
    url = f"/api/v1/bookings/{created['id']}/cancel"

    one = client.post(url, headers=headers, json={"occurrence_ids": [first["id"]]})
    assert one.status_code == 200
    assert [o["status"] for o in one.get_json()["occurrences"]] == [
        "cancelled",
        "approved",
        "approved",
    ]
    assert_problem(
        client.post(url, headers=headers, json={"occurrence_ids": [first["id"]]}),
        409,
        "invalid_transition",
    )
    assert_problem(
        client.post(url, headers=headers, json={"occurrence_ids": [999999]}),
        422,
        field="occurrence_ids",
    )
    rest_cancelled = client.post(url, headers=headers)  # no body: every upcoming date
    assert rest_cancelled.status_code == 200
    assert {o["status"] for o in rest_cancelled.get_json()["occurrences"]} == {"cancelled"}

    other = auth(make_user())
    assert_problem(client.post(url, headers=other), 404, "not_found")


def test_approve_and_decline_only_by_managers_of_the_site(
    client, make_site, make_room, make_user, auth
):
    site, other_site = make_site(), make_site()
    room = make_room(site, approval_policy=ApprovalPolicy.MANUAL)
    requester = auth(make_user())
    manager = auth(make_user(manages=[site]))
    other_manager = auth(make_user(manages=[other_site]))

    def request_series() -> dict:
        response = client.post(
            "/api/v1/bookings",
            headers=requester,
            json=_body(room, local(7, 18), local(7, 19), recurrence={"freq": "weekly", "count": 2}),
        )
        assert response.status_code == 201
        return response.get_json()

    booking = request_series()
    approve_url = f"/api/v1/bookings/{booking['id']}/approve"
    assert_problem(client.post(approve_url, headers=requester), 403, "not_permitted")
    assert_problem(client.post(approve_url, headers=other_manager), 404, "not_found")
    first = booking["occurrences"][0]["id"]
    approved = client.post(
        approve_url, headers=manager, json={"occurrence_ids": [first], "comment": "Gern!"}
    )
    assert approved.status_code == 200
    occurrences = approved.get_json()["occurrences"]
    assert [o["status"] for o in occurrences] == ["approved", "pending"]
    assert occurrences[0]["status_reason"] == "Gern!"

    decline_url = f"/api/v1/bookings/{booking['id']}/decline"
    assert_problem(client.post(decline_url, headers=manager, json={}), 422, field="reason")
    assert_problem(
        client.post(decline_url, headers=manager, json={"reason": "   "}), 422, field="reason"
    )
    assert_problem(client.post(decline_url, headers=requester, json={"reason": "no"}), 403)
    declined = client.post(decline_url, headers=manager, json={"reason": "Hallenfest"})
    assert declined.status_code == 200
    assert [o["status"] for o in declined.get_json()["occurrences"]] == ["declined"] * 2
    assert_problem(client.post(approve_url, headers=manager), 409, "invalid_transition")


def test_approve_refuses_a_date_taken_meanwhile(client, make_site, make_room, make_user, auth):
    site = make_site()
    room = make_room(site, approval_policy=ApprovalPolicy.MANUAL)
    manager = auth(make_user(manages=[site]))
    first = client.post(
        "/api/v1/bookings", headers=auth(make_user()), json=_body(room, local(7, 18), local(7, 19))
    ).get_json()
    # The manager books the same time directly (approved straight away).
    direct = client.post(
        "/api/v1/bookings", headers=manager, json=_body(room, local(7, 18), local(7, 19))
    )
    assert direct.status_code == 201
    problem = assert_problem(
        client.post(f"/api/v1/bookings/{first['id']}/approve", headers=manager), 409, "conflict"
    )
    assert problem["conflicts"][0]["reasons"][0]["reason"] == "taken"


def test_huge_path_ids_are_404(client, make_user, auth):
    headers = auth(make_user())
    assert_problem(client.get("/api/v1/bookings/99999999999999999999", headers=headers), 404)
    assert_problem(
        client.post("/api/v1/bookings/99999999999/cancel", headers=headers), 404, "not_found"
    )
