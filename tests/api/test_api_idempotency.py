"""POST /api/v1/bookings with an Idempotency-Key: a retried request books once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import ApprovalPolicy, Booking
from tests.api.conftest import assert_problem, iso, local

KEY = "Idempotency-Key"


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Booking))


def _body(room, **extra):
    return {
        "room_id": room.id,
        "title": "Chorprobe",
        "start": iso(local(14, 18)),
        "end": iso(local(14, 20)),
        **extra,
    }


def test_a_replayed_request_answers_the_first_response(client, make_room, make_user, auth):
    room = make_room()
    headers = auth(make_user()) | {KEY: "3f1c9a7e-booking-1"}

    first = client.post("/api/v1/bookings", headers=headers, json=_body(room))
    again = client.post("/api/v1/bookings", headers=headers, json=_body(room))

    assert first.status_code == 201, first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert _count() == 1
    assert db.session.get(Booking, first.get_json()["id"]).submission_key.endswith(
        ":3f1c9a7e-booking-1"
    )


def test_the_same_key_with_another_body_is_refused(client, make_room, make_user, auth):
    room = make_room()
    headers = auth(make_user()) | {KEY: "retry-me"}
    assert client.post("/api/v1/bookings", headers=headers, json=_body(room)).status_code == 201

    response = client.post("/api/v1/bookings", headers=headers, json=_body(room, title="Andere"))

    body = assert_problem(response, 422, "idempotency_key_reused", field=KEY)
    assert "Chorprobe" not in response.get_data(as_text=True)
    assert body["type"].endswith("/invalid")
    assert _count() == 1


def test_without_the_header_every_request_books(client, make_room, make_user, auth):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    headers = auth(make_user())

    answers = [client.post("/api/v1/bookings", headers=headers, json=_body(room)) for _ in "ab"]

    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].get_json()["id"] != answers[1].get_json()["id"]
    assert all("Idempotent-Replayed" not in a.headers for a in answers)
    assert _count() == 2


def test_keys_belong_to_their_user(client, make_room, make_user, auth):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    answers = [
        client.post(
            "/api/v1/bookings", headers=auth(make_user()) | {KEY: "same-key"}, json=_body(room)
        )
        for _ in "ab"
    ]

    assert [a.status_code for a in answers] == [201, 201]
    assert all("Idempotent-Replayed" not in a.headers for a in answers)
    assert answers[0].get_json()["id"] != answers[1].get_json()["id"]
    assert _count() == 2


def test_an_invalid_key_is_a_422_naming_the_header(client, make_room, make_user, auth):
    room = make_room()
    headers = auth(make_user())
    for bad in ("x" * 101, "schlüssel", "tab\tinside", ""):
        response = client.post("/api/v1/bookings", headers=headers | {KEY: bad}, json=_body(room))
        problem = assert_problem(response, 422, "invalid", field=KEY)
        assert KEY in problem["detail"]
    assert _count() == 0
    ok = client.post("/api/v1/bookings", headers=headers | {KEY: "x" * 100}, json=_body(room))
    assert ok.status_code == 201


def test_concurrent_requests_with_one_key_book_once(app, client, make_room, make_user, auth):
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    headers = auth(make_user()) | {KEY: "sent-ten-times"}
    body = _body(room)
    senders = 10
    barrier = threading.Barrier(senders)
    answers: list = [None] * senders

    def send(i: int) -> None:
        own_client = app.test_client()
        barrier.wait(timeout=60)
        response = own_client.post("/api/v1/bookings", headers=headers, json=body)
        answers[i] = (response.status_code, response.get_json(), response.headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [status for status, _, _ in answers] == [201] * senders, answers
    assert len({answer["id"] for _, answer, _ in answers}) == 1
    replayed = [h.get("Idempotent-Replayed") for _, _, h in answers]
    assert replayed.count("true") == senders - 1
    assert _count() == 1


def test_the_header_is_documented(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/bookings"]["post"]
    (param,) = [p for p in operation["parameters"] if p["name"] == KEY]
    assert param["in"] == "header"
    assert param["required"] is False
    assert param["schema"]["maxLength"] == 100
    assert "idempotency_key_reused" in param["description"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
