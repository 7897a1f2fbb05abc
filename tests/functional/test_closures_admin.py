"""Closures (#11) through the pages: add by hand, import an .ics file (the NRW holidays with one
click, matched by UID), see the booked dates they hit, cancel them all with one reason (mailed,
audited), delete; and the manager's dashboard pointing at closures that hit bookings."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking import domain
from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    Closure,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    OutboxMessage,
)
from booking.services import closures, mail
from booking.services.bookings import BookingCommand, request_booking
from booking.services.errors import InvalidRequest, NotPermitted
from tests.mails import written

BERLIN = ZoneInfo("Europe/Berlin")
SCHOOL_ICS = resources.files("booking").joinpath("data", closures.HOLIDAY_FILES["school"])


def day_ahead(days: int) -> date:
    return datetime.now(BERLIN).date() + timedelta(days=days)


def at(day: date, hour: int) -> datetime:
    return domain.from_local(datetime.combine(day, time(hour)), BERLIN)


def book(user, room, day: date, hour: int = 18, *, title="Training", organisation=None):
    """A booking through the real service (approved in an automatic room, else pending)."""
    start = at(day, hour)
    return request_booking(
        user,
        BookingCommand(
            room_id=room.id,
            title=title,
            start=start,
            end=start + timedelta(hours=2),
            organisation_id=None if organisation is None else organisation.id,
            house_rules_accepted=True,
        ),
    )


def audit_actions(db, site_id: int) -> list[str]:
    """The site's audit trail after the bookings were requested."""
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.site_id == site_id, AuditEvent.action != "requested")
            .order_by(AuditEvent.id)
        )
    )


def next_autumn_holidays() -> closures.ImportedPeriod:
    periods = closures.parse_ics_periods(SCHOOL_ICS.read_bytes())
    upcoming = [p for p in periods if "Herbst" in p.reason and p.first_day > day_ahead(1)]
    if not upcoming:
        pytest.skip("the shipped school holiday file has no autumn holidays ahead any more")
    return upcoming[0]


@pytest.fixture
def school(db, make_site, make_room, make_user, make_organisation):
    """A school with a divisible gym (two halves) and a classroom, its manager (English) and a
    sports club's member who books."""
    site = make_site(name="Gesamtschule Nord")
    gym = make_room(site, name="Turnhalle", approval_policy=ApprovalPolicy.AUTOMATIC)
    halves = [
        make_room(site, name=name, parent=gym, approval_policy=ApprovalPolicy.AUTOMATIC)
        for name in ("Halle A", "Halle B")
    ]
    classroom = make_room(site, name="Klasse 5a", approval_policy=ApprovalPolicy.MANUAL)
    club = make_organisation(name="TV Nord")
    member = make_user(email="trainer@example.org", name="Tina", organisations=[club])
    manager = make_user(email="hausmeister@example.org", language="en", manages=[site])
    db.session.commit()
    return {
        "site": site,
        "gym": gym,
        "halves": halves,
        "classroom": classroom,
        "club": club,
        "member": member,
        "manager": manager,
    }


def test_closure_by_hand_lists_hit_dates_and_cancels_them_with_one_reason(
    client, db, school, login_as
):
    site, member, club = school["site"], school["member"], school["club"]
    day = day_ahead(30)
    approved = book(member, school["gym"], day, title="Volleyball", organisation=club)
    pending = book(member, school["classroom"], day, 17, title="Elternabend")
    elsewhere = book(member, school["classroom"], day + timedelta(days=3), title="Später")
    db.session.commit()
    assert approved.occurrences[0].status is OccurrenceStatus.APPROVED
    assert pending.occurrences[0].status is OccurrenceStatus.PENDING
    login_as(school["manager"])

    page = client.get(f"/admin/sites/{site.id}/closures")
    assert page.status_code == 200
    assert "Add a closure" in page.get_data(as_text=True)

    response = client.post(
        f"/admin/sites/{site.id}/closures",
        data={
            "room_id": "",
            "from_day": day.isoformat(),
            "to_day": day.isoformat(),
            "reason": "Wasserschaden",
        },
    )
    assert response.status_code == 302
    hits_page = client.get(response.headers["Location"])
    html = hits_page.get_data(as_text=True)
    assert hits_page.status_code == 200
    for text in (
        "Volleyball",
        "TV Nord",
        "Turnhalle",
        "Elternabend",
        "Klasse 5a",
        "approved",
        "waiting for approval",
        "Cancel all these 2 dates",
    ):
        assert text in html, text
    assert "Später" not in html
    [closure] = db.session.scalars(select(Closure).where(Closure.site_id == site.id)).all()
    assert (closure.starts_at, closure.ends_at) == (at(day, 0), at(day + timedelta(days=1), 0))

    # No reason: nothing happens, the message sits next to the field.
    refused = client.post(response.headers["Location"], data={"reason": "  "})
    assert refused.status_code == 422
    assert 'id="reason-error"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert approved.occurrences[0].status is OccurrenceStatus.APPROVED

    done = client.post(response.headers["Location"], data={"reason": "Die Halle ist gesperrt."})
    assert done.status_code == 302
    db.session.expire_all()
    assert approved.occurrences[0].status is OccurrenceStatus.CANCELLED
    assert approved.occurrences[0].status_reason == "Die Halle ist gesperrt."
    assert pending.occurrences[0].status is OccurrenceStatus.DECLINED
    assert elsewhere.occurrences[0].status is OccurrenceStatus.PENDING
    # The cancelled date's time is free again.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Occupancy)
            .where(Occupancy.occurrence_id == approved.occurrences[0].id)
        )
        == 0
    )
    assert sorted(audit_actions(db, site.id)) == ["cancelled", "closure_created", "declined"]
    written(db)  # the mails as the worker will send them
    changed_mails = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.subject.contains("Volleyball"))
    ).all()
    assert len(changed_mails) == 2  # received, then cancelled: one mail for the cancellation

    # Afterwards nothing is hit any more.
    again = client.get(response.headers["Location"])
    assert "No approved or pending date falls on these closures." in again.get_data(as_text=True)


def test_room_closure_hits_the_room_its_parts_and_its_whole_but_not_a_sibling(db, school):
    site, gym, (half_a, half_b) = school["site"], school["gym"], school["halves"]
    member, manager = school["member"], school["manager"]
    day = day_ahead(20)
    whole = book(member, gym, day, 10, title="Ganze Halle")
    part_a = book(member, half_a, day, 14, title="Halle A")
    part_b = book(member, half_b, day, 14, title="Halle B")
    classroom = book(member, school["classroom"], day, 14, title="Klasse")
    db.session.commit()

    on_a = closures.create_closure(
        manager, site.id, closures.ClosureCommand(day, day, "Boden wird versiegelt", half_a.id)
    )
    hit = {h.booking.id for h in closures.hit_dates(manager, site.id, [on_a.id])}
    assert hit == {whole.id, part_a.id}  # the part and the whole it belongs to

    on_gym = closures.create_closure(
        manager, site.id, closures.ClosureCommand(day, day, "Turnier", gym.id)
    )
    hit = {h.booking.id for h in closures.hit_dates(manager, site.id, [on_gym.id])}
    assert hit == {whole.id, part_a.id, part_b.id}  # the whole and all its parts
    assert classroom.id not in hit


def test_reuploading_the_same_file_changes_nothing(client, db, school, login_as):
    site = school["site"]
    autumn = next_autumn_holidays()
    booking = book(school["member"], school["gym"], autumn.first_day + timedelta(days=3))
    db.session.commit()
    login_as(school["manager"])

    first = client.post(f"/admin/sites/{site.id}/closures/import", data={"holidays": "school"})
    assert first.status_code == 302
    hits = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Training" in hits and autumn.reason in hits
    count = db.session.scalar(select(func.count()).select_from(Closure))
    assert count == len(closures.parse_ics_periods(SCHOOL_ICS.read_bytes()))

    again = client.post(
        f"/admin/sites/{site.id}/closures/import",
        data={"file": (SCHOOL_ICS.open("rb"), "schulferien.ics")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 302
    listing = client.get(f"/admin/sites/{site.id}/closures").get_data(as_text=True)
    assert f"Imported: 0 new, 0 changed, {count} unchanged." in listing
    assert db.session.scalar(select(func.count()).select_from(Closure)) == count
    assert audit_actions(db, site.id).count("closures_imported") == 1
    db.session.expire_all()
    assert booking.occurrences[0].status is OccurrenceStatus.APPROVED  # never changed by itself

    # A changed event (same UID) is updated, not added.
    changed = SCHOOL_ICS.read_bytes().replace(
        f"SUMMARY:{autumn.reason}".encode(), b"SUMMARY:Herbstferien (verschoben)"
    )
    result = closures.import_ics(school["manager"], site.id, changed)
    assert (result.created, result.changed) == (0, 1)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"from_day": "2030-05-10", "to_day": "2030-05-09", "reason": "Umbau"},
            "to_day",
            "The end must be after the start.",
        ),
        (
            {"from_day": "2030-05-10", "to_day": "2030-05-10", "reason": " "},
            "reason",
            "Please give a reason.",
        ),
        (
            {
                "from_day": "2030-05-10",
                "from_time": "18:00",
                "to_day": "2030-05-10",
                "to_time": "08:00",
                "reason": "Umbau",
            },
            "to_day",
            "The end must be after the start.",
        ),
        (
            {"from_day": "", "to_day": "2030-05-10", "reason": "Umbau"},
            "from_day",
            "Please give the first day.",
        ),
    ],
)
def test_bad_input_is_refused_next_to_its_field(client, db, school, login_as, data, field, message):
    site = school["site"]
    login_as(school["manager"])
    response = client.post(f"/admin/sites/{site.id}/closures", data={"room_id": ""} | data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_a_room_of_another_site_and_a_file_that_is_no_calendar_are_refused(
    client, db, school, login_as, make_room
):
    site = school["site"]
    foreign = make_room(name="Fremder Raum")
    login_as(school["manager"])
    # A room id from elsewhere is no choice of the form: refused before the service.
    response = client.post(
        f"/admin/sites/{site.id}/closures",
        data={
            "room_id": str(foreign.id),
            "from_day": "2030-05-10",
            "to_day": "2030-05-10",
            "reason": "Umbau",
        },
    )
    assert response.status_code == 422
    assert 'id="room_id-error"' in response.get_data(as_text=True)
    with pytest.raises(InvalidRequest) as refused:
        closures.create_closure(
            school["manager"],
            site.id,
            closures.ClosureCommand(date(2030, 5, 10), date(2030, 5, 10), "Umbau", foreign.id),
        )
    assert (refused.value.field, refused.value.code) == ("room_id", "room_unknown")

    upload = client.post(
        f"/admin/sites/{site.id}/closures/import",
        data={"file": (io.BytesIO(b"name;day\nFerien;2030-01-01\n"), "ferien.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422
    html = upload.get_data(as_text=True)
    assert 'id="file-error"' in html and "This is not a readable iCalendar file." in html
    nothing = client.post(
        f"/admin/sites/{site.id}/closures/import", data={}, content_type="multipart/form-data"
    )
    assert nothing.status_code == 422
    assert "Please choose a file." in nothing.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_delete_a_closure_and_only_of_ones_own_site(client, db, school, login_as, make_site):
    site, manager = school["site"], school["manager"]
    closure = closures.create_closure(
        manager, site.id, closures.ClosureCommand(day_ahead(5), day_ahead(6), "Putzwoche")
    )
    other = make_site(name="Andere Schule")
    foreign = Closure(
        site_id=other.id,
        starts_at=at(day_ahead(5), 0),
        ends_at=at(day_ahead(6), 0),
        reason="Fremd",
    )
    db.session.add(foreign)
    db.session.commit()
    login_as(manager)
    # Someone else's closure, even under one's own site's path, is not found.
    assert client.post(f"/admin/sites/{site.id}/closures/{foreign.id}/delete").status_code == 404
    assert client.post(f"/admin/sites/{other.id}/closures/{foreign.id}/delete").status_code == 403
    response = client.post(f"/admin/sites/{site.id}/closures/{closure.id}/delete")
    assert response.status_code == 302
    assert db.session.scalars(select(Closure.reason).order_by(Closure.id)).all() == ["Fremd"]
    assert audit_actions(db, site.id) == ["closure_created", "closure_deleted"]
    with pytest.raises(NotPermitted):
        closures.list_closures(manager, other.id)


def test_dashboard_shows_closures_that_hit_bookings(client, db, school, login_as, make_site):
    site, manager = school["site"], school["manager"]
    day = day_ahead(12)
    book(school["member"], school["gym"], day, title="Volleyball")
    hitting = closures.create_closure(
        manager, site.id, closures.ClosureCommand(day, day, "Stromausfall")
    )
    closures.create_closure(
        manager, site.id, closures.ClosureCommand(day_ahead(40), day_ahead(41), "Leer")
    )
    other = make_site(name="Andere Schule")
    db.session.add(
        Closure(site_id=other.id, starts_at=at(day, 0), ends_at=at(day, 23), reason="Fremdgrund")
    )
    db.session.commit()
    login_as(manager)
    html = client.get("/manage").get_data(as_text=True)
    assert "Closures that hit bookings" in html
    assert "Stromausfall" in html and "1 booked date" in html
    assert f"/admin/sites/{site.id}/closures/hits?closure={hitting.id}" in html
    assert "Leer" not in html and "Fremdgrund" not in html


# --- mail through a real SMTP server (as tests/integration/test_mail.py) -----------------------


def deliver(app) -> dict[str, int]:
    with app.app_context():
        return mail.send_pending(mail.MailSettings.from_config(app.config))


def test_each_requester_gets_one_mail_per_booking_with_the_reason(
    app, client, db, smtp, school, login_as, make_user
):
    site, member = school["site"], school["member"]
    other = make_user(email="chor@example.org", name="Clara", language="en")
    day = day_ahead(25)
    series = request_booking(
        member,
        BookingCommand(
            room_id=school["gym"].id,
            title="Volleyball",
            start=at(day, 18),
            end=at(day, 20),
            recurrence=domain.Recurrence(freq="daily", count=3),
            house_rules_accepted=True,
        ),
    )
    choir = book(other, school["classroom"], day + timedelta(days=1), title="Chorprobe")
    db.session.commit()
    deliver(app)
    smtp.messages.clear()  # the "request received" mails

    login_as(school["manager"])
    response = client.post(
        f"/admin/sites/{site.id}/closures",
        data={
            "from_day": day.isoformat(),
            "to_day": (day + timedelta(days=1)).isoformat(),
            "reason": "Heizungsausfall",
        },
    )
    done = client.post(response.headers["Location"], data={"reason": "Die Heizung ist kaputt."})
    assert done.status_code == 302

    assert deliver(app)["sent"] == 2
    by_recipient = {tuple(r): m for r, m in smtp.messages}
    assert set(by_recipient) == {("trainer@example.org",), ("chor@example.org",)}
    volleyball = by_recipient[("trainer@example.org",)]
    assert "Volleyball" in volleyball["Subject"]
    body = volleyball.get_body(preferencelist=("plain",)).get_content()
    assert "Die Heizung ist kaputt." in body
    assert body.count("Die Heizung ist kaputt.") >= 1
    choir_body = by_recipient[("chor@example.org",)].get_body(preferencelist=("plain",))
    assert "Die Heizung ist kaputt." in choir_body.get_content()
    db.session.expire_all()
    statuses = [o.status for o in series.occurrences]
    assert statuses == [
        OccurrenceStatus.CANCELLED,
        OccurrenceStatus.CANCELLED,
        OccurrenceStatus.APPROVED,  # the third day is after the closure
    ]
    assert choir.occurrences[0].status is OccurrenceStatus.DECLINED
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.booking_id.in_([series.id, choir.id]))
        .where(AuditEvent.action.in_(["cancelled", "declined"]))
    ).all()
    assert sorted((e.booking_id, e.action) for e in events) == sorted(
        [(series.id, "cancelled"), (choir.id, "declined")]
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Occurrence)
            .where(Occurrence.status == OccurrenceStatus.CANCELLED)
        )
        == 2
    )
