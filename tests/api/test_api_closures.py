"""Closures in the API (#11): POST /closures and POST /sites/<id>/closures/import (an .ics body),
both answering with the booked dates they hit; problem+json errors with the field."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from importlib import resources

import pytest
from sqlalchemy import func, select

from booking import domain
from booking.models import ApprovalPolicy, AuditEvent, Closure, OccurrenceStatus
from booking.services import closures
from tests.api.conftest import BERLIN, assert_problem

SCHOOL_ICS = resources.files("booking").joinpath("data", closures.HOLIDAY_FILES["school"])
ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test//DE\r
BEGIN:VEVENT\r
UID:umbau-1@example.org\r
SUMMARY:Umbau\r
DTSTART;VALUE=DATE:%(first)s\r
DTEND;VALUE=DATE:%(after)s\r
END:VEVENT\r
END:VCALENDAR\r
"""


def day_ahead(days: int):
    return datetime.now(BERLIN).date() + timedelta(days=days)


def ics_for(first, last) -> bytes:
    return ICS % {
        b"first": first.strftime("%Y%m%d").encode(),
        b"after": (last + timedelta(days=1)).strftime("%Y%m%d").encode(),
    }


@pytest.fixture
def school(db, make_site, make_room, make_user, make_booking, make_organisation, auth):
    site = make_site(name="Realschule")
    hall = make_room(site, name="Aula", approval_policy=ApprovalPolicy.AUTOMATIC)
    stage = make_room(site, name="Bühne", parent=hall, approval_policy=ApprovalPolicy.MANUAL)
    club = make_organisation(name="Theater AG")
    member = make_user(organisations=[club])
    manager = make_user(manages=[site])
    day = day_ahead(30)
    start = domain.from_local(datetime.combine(day, time(18)), BERLIN)
    approved = make_booking(member, hall, start, title="Generalprobe", organisation_id=club.id)
    pending = make_booking(member, stage, start + timedelta(days=1), title="Kulissenbau")
    return {
        "site": site,
        "hall": hall,
        "stage": stage,
        "day": day,
        "approved": approved,
        "pending": pending,
        "manager": auth(manager),
        "other_manager": auth(make_user(manages=[make_site(name="Andere")])),
        "member": auth(member),
    }


def test_create_a_closure_answers_with_the_dates_it_hits(client, db, school):
    site, day = school["site"], school["day"]
    body = {
        "site_id": site.id,
        "from": day.isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        "reason": "Brandschutz",
    }
    response = client.post("/api/v1/closures", headers=school["manager"], json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    closure = answer["closure"]
    assert closure["reason"] == "Brandschutz" and closure["room_id"] is None
    assert closure["starts_at"].startswith(day.isoformat() + "T00:00:00+")
    assert closure["ends_at"].startswith((day + timedelta(days=2)).isoformat() + "T00:00:00+")
    hits = {(h["title"], h["status"], h["room"], h["organisation"]) for h in answer["hit_dates"]}
    assert hits == {
        ("Generalprobe", "approved", "Aula", "Theater AG"),
        ("Kulissenbau", "pending", "Bühne", None),
    }
    assert all(h["closure_id"] == closure["id"] for h in answer["hit_dates"])
    # Nothing is cancelled by the closure itself.
    db.session.expire_all()
    assert school["approved"].occurrences[0].status is OccurrenceStatus.APPROVED
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "closure_created")
    ).one()
    assert event.site_id == site.id and event.reason == "Brandschutz"


def test_a_room_closure_with_times_hits_the_part_and_its_whole(client, db, school):
    site, day = school["site"], school["day"]
    body = {
        "site_id": site.id,
        "room_id": school["stage"].id,
        "starts_at": f"{day.isoformat()}T17:00",
        "ends_at": f"{(day + timedelta(days=1)).isoformat()}T23:00",
        "reason": "Bühnentechnik",
    }
    response = client.post("/api/v1/closures", headers=school["manager"], json=body)
    assert response.status_code == 201
    titles = sorted(h["title"] for h in response.get_json()["hit_dates"])
    assert titles == ["Generalprobe", "Kulissenbau"]  # the whole (Aula) and the part (Bühne)
    assert response.get_json()["closure"]["starts_at"].startswith(f"{day.isoformat()}T17:00")


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"from": "2030-05-10", "to": "2030-05-09"}, "to", "end_before_start"),
        (
            {
                "from": None,
                "to": None,
                "starts_at": "2030-05-10T18:00",
                "ends_at": "2030-05-10T08:00",
            },
            "ends_at",
            "end_before_start",
        ),
        ({"reason": "   "}, "reason", "reason_missing"),
        ({"to": None}, "to", "to_missing"),
        ({"starts_at": "2030-05-10T08:00"}, "from", "period_ambiguous"),
    ],
)
def test_bad_closures_are_422_with_the_field(client, db, school, change, field, code):
    body = {"site_id": school["site"].id, "from": "2030-05-10", "to": "2030-05-10"}
    body |= {"reason": "Umbau"} | change
    response = client.post("/api/v1/closures", headers=school["manager"], json=body)
    assert_problem(response, 422, code, field)
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_a_room_of_another_site_is_422_and_another_site_403(
    client, db, school, make_room, make_site
):
    foreign = make_room(make_site(name="Fremd"), name="Fremder Raum")
    body = {
        "site_id": school["site"].id,
        "room_id": foreign.id,
        "from": "2030-05-10",
        "to": "2030-05-10",
        "reason": "Umbau",
    }
    assert_problem(
        client.post("/api/v1/closures", headers=school["manager"], json=body),
        422,
        "room_unknown",
        "room_id",
    )
    body.pop("room_id")
    for who in ("other_manager", "member"):
        response = client.post("/api/v1/closures", headers=school[who], json=body)
        assert_problem(response, 403)
        assert "Generalprobe" not in response.get_data(as_text=True)
    assert_problem(client.post("/api/v1/closures", json=body), 401)
    assert_problem(
        client.post("/api/v1/closures", headers=school["manager"], json=body | {"site_id": 99999}),
        404,
    )


def test_import_an_ics_body_and_again_changes_nothing(client, db, school):
    site, day = school["site"], school["day"]
    url = f"/api/v1/sites/{site.id}/closures/import"
    data = ics_for(day, day + timedelta(days=1))
    headers = school["manager"] | {"Content-Type": "text/calendar"}
    first = client.post(url, headers=headers, data=data)
    assert first.status_code == 200, first.get_data(as_text=True)
    answer = first.get_json()
    assert (answer["created"], answer["changed"], answer["unchanged"]) == (1, 0, 0)
    assert sorted(h["title"] for h in answer["hit_dates"]) == ["Generalprobe", "Kulissenbau"]
    again = client.post(url, headers=headers, data=data).get_json()
    assert (again["created"], again["changed"], again["unchanged"]) == (0, 0, 1)
    assert len(again["hit_dates"]) == 2
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 1
    # The same event moved by a day: updated, not added.
    moved = client.post(url, headers=headers, data=ics_for(day, day)).get_json()
    assert (moved["created"], moved["changed"]) == (0, 1)
    assert [h["title"] for h in moved["hit_dates"]] == ["Generalprobe"]
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 1


def test_import_the_shipped_school_holidays(client, db, school):
    url = f"/api/v1/sites/{school['site'].id}/closures/import"
    response = client.post(
        url,
        headers=school["manager"] | {"Content-Type": "text/calendar"},
        data=SCHOOL_ICS.read_bytes(),
    )
    assert response.status_code == 200
    count = len(closures.parse_ics_periods(SCHOOL_ICS.read_bytes()))
    assert response.get_json()["created"] == count


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code", "field"),
    [
        (b"name;day\nFerien;2030-01-01\n", "text/calendar", 422, "ics_unreadable", "body"),
        (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar", 422, "ics_empty", "body"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "text/calendar",
            422,
            "ics_unreadable",
            "body",
        ),
        (b"", "text/calendar", 422, "invalid", "body"),
        (b'{"a": 1}', "application/json", 415, "unsupported_media_type", None),
    ],
)
def test_import_refuses_what_is_no_calendar(
    client, db, school, data, content_type, status, code, field
):
    url = f"/api/v1/sites/{school['site'].id}/closures/import"
    response = client.post(
        url, headers=school["manager"] | {"Content-Type": content_type}, data=data
    )
    assert_problem(response, status, code, field)
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_import_for_another_site_is_refused(client, db, school):
    url = f"/api/v1/sites/{school['site'].id}/closures/import"
    data = ics_for(school["day"], school["day"])
    for who, status in (("other_manager", 403), ("member", 403)):
        headers = school[who] | {"Content-Type": "text/calendar"}
        assert_problem(client.post(url, headers=headers, data=data), status)
    assert_problem(client.post(url, data=data, content_type="text/calendar"), 401)
    assert_problem(
        client.post(
            "/api/v1/sites/99999/closures/import",
            headers=school["manager"] | {"Content-Type": "text/calendar"},
            data=data,
        ),
        404,
    )
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    create = paths["/api/v1/closures"]["post"]
    assert set(create["responses"]) >= {"201", "401", "403", "404", "422"}
    imported = paths["/api/v1/sites/{site_id}/closures/import"]["post"]
    assert list(imported["requestBody"]["content"]) == ["text/calendar"]
    assert set(imported["responses"]) >= {"200", "401", "403", "404", "413", "415", "422"}
