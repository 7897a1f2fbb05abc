"""Approving through the API declines the rival requests, as the managers' web page does (#11):
the rivals' requesters are mailed (through a real local SMTP server), and the answer lists the
declined dates. ``decline_rivals: false`` leaves them pending."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    Booking,
    Occurrence,
    OccurrenceStatus,
    OutboxMessage,
)
from booking.services import mail
from tests.api.conftest import assert_problem

BERLIN = ZoneInfo("Europe/Berlin")
PREPARED = "Diese Zeit wurde an eine andere Gruppe vergeben."  # German: the default language


def _deliver(app) -> None:
    with app.app_context():
        mail.send_pending(mail.MailSettings.from_config(app.config))


def _at(days: int, hour: int) -> datetime:
    return datetime.combine(date.today() + timedelta(days=days), time(hour), tzinfo=BERLIN)


@pytest.fixture
def contest(db, make_site, make_room, make_user, make_organisation, make_booking):
    """A hall with a third at site X; the hall's request, a rival on the third at an overlapping
    time, and a request for the same evening that does not overlap."""
    site_x, site_y = make_site(), make_site()
    hall = make_room(site_x, name="Turnhalle", approval_policy=ApprovalPolicy.MANUAL)
    third = make_room(site_x, name="Drittel", parent=hall, approval_policy=ApprovalPolicy.MANUAL)
    anna = make_user(email="anna@example.org", organisations=[make_organisation()])
    bert = make_user(email="bert@example.org", name="Bert", organisations=[make_organisation()])
    carla = make_user(email="carla@example.org", organisations=[make_organisation()])
    wanted = make_booking(anna, hall, _at(7, 18), 120, title="Hallenfußball")
    rival = make_booking(bert, third, _at(7, 19), 60, title="Rückenfit")
    later = make_booking(carla, third, _at(7, 21), 60, title="Yoga")
    manager_x = make_user(email="x@example.org", manages=[site_x])
    manager_y = make_user(email="y@example.org", manages=[site_y])
    db.session.commit()
    return {
        "wanted": wanted.id,
        "rival": rival.id,
        "rival_date": rival.occurrences[0].id,
        "later": later.id,
        "manager_x": manager_x,
        "manager_y": manager_y,
    }


def _status(db, booking_id: int) -> OccurrenceStatus:
    db.session.expire_all()
    return db.session.scalars(
        select(Occurrence.status).where(Occurrence.booking_id == booking_id)
    ).one()


def _mails_to(db, recipient: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient))
    )


def test_approving_declines_the_rival_and_mails_its_requester(app, client, db, contest, auth, smtp):
    bert_mails_before = len(_mails_to(db, "bert@example.org"))
    response = client.post(
        f"/api/v1/bookings/{contest['wanted']}/approve", json={}, headers=auth(contest["manager_x"])
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [o["status"] for o in body["occurrences"]] == ["approved"]
    [declined] = body["declined_rivals"]
    assert declined["booking_id"] == contest["rival"]
    assert declined["occurrence_id"] == contest["rival_date"]
    assert datetime.fromisoformat(declined["start"]) == _at(7, 19)
    assert _status(db, contest["rival"]) is OccurrenceStatus.DECLINED
    assert _status(db, contest["later"]) is OccurrenceStatus.PENDING  # no overlap, untouched
    reason = db.session.scalars(
        select(Occurrence.status_reason).where(Occurrence.booking_id == contest["rival"])
    ).one()
    assert reason == PREPARED
    assert (
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.booking_id == contest["rival"])
        ).all()[-1]
        == "declined"
    )

    assert len(_mails_to(db, "bert@example.org")) == bert_mails_before + 1
    _deliver(app)
    to_bert = [m for rcpt, m in smtp.messages if rcpt == ["bert@example.org"]]
    assert to_bert, [rcpt for rcpt, _m in smtp.messages]
    text = to_bert[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Rückenfit" in text and PREPARED in text


def test_the_manager_words_the_reason(client, db, contest, auth):
    reason = "Die Halle ist an diesem Abend an den Fußballverein vergeben."
    response = client.post(
        f"/api/v1/bookings/{contest['wanted']}/approve",
        json={"rival_reason": reason, "comment": "Schlüssel beim Hausmeister."},
        headers=auth(contest["manager_x"]),
    )
    assert response.status_code == 200
    assert len(response.get_json()["declined_rivals"]) == 1
    [mail_row] = [m for m in _mails_to(db, "bert@example.org") if reason in m.body_text]
    assert "Rückenfit" in mail_row.body_text


def test_decline_rivals_false_leaves_them_pending(client, db, contest, auth):
    before = len(_mails_to(db, "bert@example.org"))
    response = client.post(
        f"/api/v1/bookings/{contest['wanted']}/approve",
        json={"decline_rivals": False},
        headers=auth(contest["manager_x"]),
    )
    assert response.status_code == 200
    assert response.get_json()["declined_rivals"] == []
    assert _status(db, contest["wanted"]) is OccurrenceStatus.APPROVED
    assert _status(db, contest["rival"]) is OccurrenceStatus.PENDING
    assert len(_mails_to(db, "bert@example.org")) == before


def test_another_sites_manager_gets_404_and_nothing_changes(client, db, contest, auth):
    before = len(_mails_to(db, "bert@example.org"))
    response = client.post(
        f"/api/v1/bookings/{contest['wanted']}/approve", json={}, headers=auth(contest["manager_y"])
    )
    assert_problem(response, 404)
    assert "Rückenfit" not in response.get_data(as_text=True)
    assert _status(db, contest["wanted"]) is OccurrenceStatus.PENDING
    assert _status(db, contest["rival"]) is OccurrenceStatus.PENDING
    assert len(_mails_to(db, "bert@example.org")) == before


def test_a_refused_approval_declines_no_rival(client, db, contest, auth, make_booking, make_user):
    """All or nothing: an approved date now lies in the way, so neither the approval nor the
    rival's decline happens."""
    wanted = db.session.get(Booking, contest["wanted"])
    hall = wanted.room
    hall.approval_policy = ApprovalPolicy.AUTOMATIC
    db.session.flush()
    make_booking(make_user(), hall, _at(7, 17), 90, title="Schon da")
    response = client.post(
        f"/api/v1/bookings/{contest['wanted']}/approve", json={}, headers=auth(contest["manager_x"])
    )
    assert_problem(response, 409)
    assert _status(db, contest["rival"]) is OccurrenceStatus.PENDING
    assert _status(db, contest["wanted"]) is OccurrenceStatus.PENDING


def test_a_too_long_reason_is_a_422_on_its_field(client, db, contest, auth):
    response = client.post(
        f"/api/v1/bookings/{contest['wanted']}/approve",
        json={"rival_reason": "x" * 2001},
        headers=auth(contest["manager_x"]),
    )
    assert_problem(response, 422, field="rival_reason")
    assert _status(db, contest["rival"]) is OccurrenceStatus.PENDING
    assert _status(db, contest["wanted"]) is OccurrenceStatus.PENDING


def test_the_answer_is_described(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/bookings/{booking_id}/approve"]["post"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    assert "declined_rivals" in document["components"]["schemas"][name]["required"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    approve_in = document["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert approve_in["properties"]["decline_rivals"]["default"] is True
    assert "rival_reason" in approve_in["properties"]
