"""Privacy (#13) at the service level: the export holds a person's data and nobody else's,
deleting an account keeps the sites' records without the person, and the retention rule
(``purge``) forgets old personal data once, with fixed clocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.api.tokens import create_token
from booking.feeds.service import issue_token
from booking.models import (
    ApiToken,
    ApprovalPolicy,
    AuditEvent,
    Booking,
    FeedToken,
    JoinRequest,
    LoginSession,
    MemberInvitation,
    MemberRole,
    Membership,
    Occupancy,
    Occurrence,
    OccurrenceStatus,
    OutboxMessage,
    PasswordResetToken,
    User,
)
from booking.services import accounts, login_sessions, organisations, people, privacy
from booking.services.errors import InvalidRequest, NotPermitted
from tests.conftest import PASSWORD

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BOOKED_AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
PLACEHOLDER = "Anonymisierte Buchung"
POLICY = privacy.RetentionPolicy(months=24, mail_days=30)


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def town(db, make_site, make_room, make_user, make_organisation, make_booking):
    """Anna (admin of the choir, with a fellow member) with a past private booking, a past
    public one and a series still to come in a room that approves at once; a manager of the
    site; a join request, an API token, a feed link and a reset link of Anna's; Bert, whose
    data must stay untouched."""
    site = make_site(name="Grundschule Nord")
    room = make_room(site, name="Aula", approval_policy=ApprovalPolicy.AUTOMATIC)
    manager = make_user(name="Mia Manager", email="mia@example.org", manages=[site])
    choir = make_organisation(name="Chor Nord")
    club = make_organisation(name="Lauftreff")
    anna = make_user(name="Anna Muster", email="anna@example.org", language="en")
    fellow = make_user(name="Fritz Fellow", email="fritz@example.org")
    db.session.add(Membership(user=anna, organisation=choir, role=MemberRole.ADMIN))
    db.session.add(Membership(user=fellow, organisation=choir, role=MemberRole.MEMBER))
    bert = make_user(name="Bert Other", email="bert@example.org")
    db.session.flush()
    past = make_booking(
        anna,
        room,
        datetime(2026, 3, 10, 18),
        title="Annas Geburtstag",
        description="Anna Muster, Tel. 0171 1234567",
        now=BOOKED_AT,
    )
    public = make_booking(
        anna,
        room,
        datetime(2026, 4, 10, 18),
        title="Offenes Singen",
        description="Bringt Noten mit, fragt nach Anna",
        is_public=True,
        now=BOOKED_AT,
    )
    future = make_booking(
        anna,
        room,
        datetime(2026, 10, 6, 18),
        title="Chorprobe bei Anna",
        organisation_id=choir.id,
        now=BOOKED_AT,
    )
    later = make_booking(anna, room, datetime(2026, 10, 13, 18), title="Zweite Probe", now=NOW)
    berts = make_booking(bert, room, datetime(2026, 10, 7, 18), title="Berts Kurs", now=NOW)
    # A manager's reason on a past date may name the person.
    past.occurrences[0].status_reason = "Schlüssel bei Frau Muster abholen"
    organisations.ask_to_join(anna, club.id, "Hallo, ich bin Anna")
    create_token(anna, "Kalender-Skript")
    issue_token(anna)
    accounts.request_password_reset("anna@example.org", now=NOW)
    accounts.request_password_reset("bert@example.org", now=NOW)
    db.session.commit()
    return {
        "site": site,
        "room": room,
        "manager": manager,
        "choir": choir,
        "club": club,
        "anna": anna,
        "fellow": fellow,
        "bert": bert,
        "past": past,
        "public": public,
        "future": future,
        "later": later,
        "berts": berts,
    }


# Export ------------------------------------------------------------------------------------


def test_the_export_holds_the_persons_data_and_no_secrets(db, town):
    data = privacy.export_data(town["anna"], now=NOW)
    text = json.dumps(data)  # everything is plain JSON

    assert data["account"]["email"] == "anna@example.org"
    assert data["account"]["name"] == "Anna Muster"
    assert data["account"]["settings"]["language"] == "en"
    assert data["account"]["created_at"]
    assert [(m["organisation"], m["role"]) for m in data["memberships"]] == [("Chor Nord", "admin")]
    titles = {b["title"] for b in data["bookings"]}
    assert titles == {"Annas Geburtstag", "Offenes Singen", "Chorprobe bei Anna", "Zweite Probe"}
    past = next(b for b in data["bookings"] if b["title"] == "Annas Geburtstag")
    assert past["description"] == "Anna Muster, Tel. 0171 1234567"
    assert past["site"] == "Grundschule Nord" and past["room"] == "Aula"
    assert [o["status"] for o in past["occurrences"]] == ["approved"]
    assert past["occurrences"][0]["starts_at"].startswith("2026-03-10T17:00")
    assert [(r["organisation"], r["message"]) for r in data["join_requests"]] == [
        ("Lauftreff", "Hallo, ich bin Anna")
    ]
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == town["anna"].id))
    assert data["api_tokens"] == [
        {
            "name": "Kalender-Skript",
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert len(data["feed_tokens"]) == 1 and set(data["feed_tokens"][0]) == {"created_at"}
    assert "join_requested" in {e["action"] for e in data["audit_events"]}
    assert "requested" in {e["action"] for e in data["audit_events"]}
    subjects = {m["subject"] for m in data["mails"]}
    assert len(data["mails"]) == 5  # four booking receipts and the reset link
    assert all(m["status"] == "waiting" for m in data["mails"])
    assert subjects
    # No secrets: neither the password hash nor any token hash.
    assert town["anna"].password_hash not in text
    assert token.token_hash not in text
    feed = db.session.scalar(select(FeedToken).where(FeedToken.user_id == town["anna"].id))
    assert feed.token_hash not in text
    for reset in db.session.scalars(select(PasswordResetToken)):
        assert reset.token_hash not in text


def test_the_export_holds_nobody_elses_data(db, town):
    text = json.dumps(privacy.export_data(town["anna"], now=NOW))
    assert "Berts Kurs" not in text
    assert "bert@example.org" not in text
    assert "Fritz Fellow" not in text
    assert "Mia Manager" not in text  # who decided is the site's business


def test_the_export_needs_a_login(db):
    from flask_login import AnonymousUserMixin

    with pytest.raises(NotPermitted) as caught:
        privacy.export_data(AnonymousUserMixin(), now=NOW)
    assert caught.value.code == "login_required"


# Deleting an account ------------------------------------------------------------------------


def delete(town, password=PASSWORD):
    result = privacy.delete_account(town["anna"], password, anonymous_title=PLACEHOLDER, now=NOW)
    from booking.extensions import db

    db.session.commit()
    return result


def test_deleting_cancels_the_dates_to_come_and_tells_the_managers(db, town):
    result = delete(town)

    assert result.cancelled_dates == 2
    for key in ("future", "later"):
        occurrence = db.session.get(Booking, town[key].id).occurrences[0]
        assert occurrence.status is OccurrenceStatus.CANCELLED
    ids = [town["future"].occurrences[0].id, town["later"].occurrences[0].id]
    assert count(db, Occupancy, Occupancy.occurrence_id.in_(ids)) == 0  # the room is free
    # The manager hears of it through the normal cancel mail.
    assert count(db, OutboxMessage, OutboxMessage.recipient == "mia@example.org") == 2
    # Past dates stay as they were.
    past = db.session.get(Booking, town["past"].id).occurrences[0]
    assert past.status is OccurrenceStatus.APPROVED
    # Bert's booking is untouched.
    berts = db.session.get(Booking, town["berts"].id)
    assert berts.occurrences[0].status is OccurrenceStatus.APPROVED
    assert berts.requested_by_id == town["bert"].id


def test_deleting_keeps_the_bookings_without_the_person(db, town):
    anna_id = town["anna"].id
    result = delete(town)

    assert result.anonymised_bookings == 4
    assert count(db, Booking) == 5  # the sites' records stay
    past = db.session.get(Booking, town["past"].id)
    assert past.requested_by_id is None
    assert past.title == PLACEHOLDER  # a private title may name the person
    assert past.description == ""
    assert past.occurrences[0].status_reason == ""
    assert past.room_id == town["room"].id
    assert past.occurrences[0].starts_at == datetime(2026, 3, 10, 17, tzinfo=UTC)
    public = db.session.get(Booking, town["public"].id)
    assert public.title == "Offenes Singen"  # published with the requester's consent
    assert public.description == ""
    future = db.session.get(Booking, town["future"].id)
    assert future.organisation_id == town["choir"].id  # the organisation's record stays
    assert count(db, Booking, Booking.requested_by_id == anna_id) == 0
    for booking in db.session.scalars(select(Booking)):
        assert "Anna" not in booking.title + booking.description
        assert all("Muster" not in o.status_reason for o in booking.occurrences)


def test_deleting_removes_the_persons_own_rows(db, town):
    anna_id, choir_id = town["anna"].id, town["choir"].id
    delete(town)

    assert db.session.get(User, anna_id) is None
    assert accounts.find_user("anna@example.org") is None
    for model in (ApiToken, FeedToken, PasswordResetToken, JoinRequest, Membership):
        assert count(db, model, model.user_id == anna_id) == 0, model.__name__
    assert count(db, OutboxMessage, OutboxMessage.recipient == "anna@example.org") == 0
    # Others keep theirs.
    assert count(db, OutboxMessage, OutboxMessage.recipient == "bert@example.org") > 0
    assert count(db, PasswordResetToken, PasswordResetToken.user_id == town["bert"].id) == 1
    # The organisation stays, with its other member (and no admin until one is appointed).
    assert count(db, Membership, Membership.organisation_id == choir_id) == 1
    assert accounts.authenticate("anna@example.org", PASSWORD) is None


def test_audit_events_keep_what_happened_but_not_who(db, town):
    anna_id = town["anna"].id
    # Anna, as the choir's admin, declines Bert's request to join, in words that name her.
    request = organisations.ask_to_join(town["bert"], town["choir"].id, "Darf ich?")
    organisations.decide_join_request(
        town["anna"], town["choir"].id, request.id, accept=False, reason="Leider voll, Anna"
    )
    db.session.commit()
    actions_before = count(db, AuditEvent)
    delete(town)

    events = list(db.session.scalars(select(AuditEvent)))
    assert len(events) > actions_before  # the cancels and the deletion itself are recorded
    assert not [e for e in events if anna_id in (e.actor_id, e.user_id)]
    asked = {e.organisation_id: e for e in events if e.action == "join_requested"}
    assert asked[town["club"].id].user_id is None  # Anna's request: no longer hers
    assert asked[town["choir"].id].user_id == town["bert"].id
    assert {"requested", "cancelled", "account_deleted"} <= {e.action for e in events}
    declined = next(e for e in events if e.action == "join_declined")
    assert (declined.actor_id, declined.reason) == (None, "")
    assert declined.user_id == town["bert"].id  # Bert's part of the record stays
    deleted = next(e for e in events if e.action == "account_deleted")
    assert deleted.actor_id is None and deleted.user_id is None
    assert deleted.details == {"cancelled_dates": 2, "anonymised_bookings": 4}
    assert "anna" not in json.dumps([e.details for e in events]).lower()


def test_a_wrong_password_changes_nothing(db, town):
    with pytest.raises(InvalidRequest) as caught:
        privacy.delete_account(
            town["anna"], "not my password", anonymous_title=PLACEHOLDER, now=NOW
        )
    assert caught.value.code == "password_wrong" and caught.value.field == "password"
    db.session.rollback()
    assert db.session.get(User, town["anna"].id) is not None
    assert db.session.get(Booking, town["past"].id).title == "Annas Geburtstag"
    assert town["future"].occurrences[0].status is OccurrenceStatus.APPROVED


def test_the_last_administrator_cannot_delete_their_account(db, make_user):
    admin = make_user(is_admin=True)
    db.session.commit()
    with pytest.raises(InvalidRequest) as caught:
        privacy.delete_account(admin, PASSWORD, anonymous_title=PLACEHOLDER, now=NOW)
    assert caught.value.code == "last_admin"
    db.session.rollback()
    assert privacy.deletion_preview(admin, now=NOW).last_admin

    other = make_user(is_admin=True)
    db.session.commit()
    assert not privacy.deletion_preview(admin, now=NOW).last_admin
    privacy.delete_account(admin, PASSWORD, anonymous_title=PLACEHOLDER, now=NOW)
    db.session.commit()
    assert db.session.get(User, other.id).is_admin
    # The people administration's rule holds the other way round too.
    with pytest.raises(InvalidRequest):
        people.set_admin(other, other.id, False)


def test_the_preview_says_what_deleting_would_do(db, town):
    preview = privacy.deletion_preview(town["anna"], now=NOW)
    assert preview.upcoming_dates == 2
    assert preview.bookings == 4
    assert not preview.last_admin
    assert [o.name for o in preview.organisations_left_without_admin] == ["Chor Nord"]


def test_a_manager_who_deletes_their_account_leaves_their_decisions(db, town, make_booking):
    manager = town["manager"]
    occurrence = town["berts"].occurrences[0]
    occurrence.decided_by_id = manager.id
    db.session.commit()
    privacy.delete_account(manager, PASSWORD, anonymous_title=PLACEHOLDER, now=NOW)
    db.session.commit()
    occurrence = db.session.get(Occurrence, occurrence.id)
    assert occurrence.decided_by_id is None
    assert occurrence.status is OccurrenceStatus.APPROVED
    assert town["site"].managers == []


# The retention rule --------------------------------------------------------------------------


def test_purge_anonymises_what_is_past_the_period_once(db, town):
    # Old mails and events: as if made back then.
    db.session.add(
        OutboxMessage(
            recipient="old@example.org",
            subject="sent long ago",
            body_text="x",
            created_at=NOW - timedelta(days=40),
            sent_at=NOW - timedelta(days=40),
            next_attempt_at=None,
        )
    )
    db.session.add(
        OutboxMessage(
            recipient="old@example.org",
            subject="given up long ago",
            body_text="x",
            created_at=NOW - timedelta(days=40),
            attempts=8,
            next_attempt_at=None,
            last_error="SMTPRecipientsRefused",
        )
    )
    db.session.add(
        OutboxMessage(
            recipient="new@example.org",
            subject="sent yesterday",
            body_text="x",
            created_at=NOW - timedelta(days=1),
            sent_at=NOW - timedelta(days=1),
            next_attempt_at=None,
        )
    )
    db.session.flush()
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.created_at < NOW)):
        message.next_attempt_at = None  # sent or given up: the outbox's column default is "due"
    db.session.commit()

    # Two years and a bit after the past bookings' dates.
    later = datetime(2028, 4, 1, 9, tzinfo=UTC)
    first = privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=later)
    db.session.commit()

    assert first["bookings_anonymised"] == 1  # only the March 2026 booking is two years old
    past = db.session.get(Booking, town["past"].id)
    assert past.requested_by_id is None and past.description == "" and past.anonymised_at
    assert past.title == PLACEHOLDER
    assert past.occurrences[0].status_reason == ""
    public = db.session.get(Booking, town["public"].id)
    assert public.requested_by_id == town["anna"].id  # April 2026: not yet two years ago
    assert first["audit_events_anonymised"] == 0  # every event is younger
    assert first["reset_links_deleted"] == 2  # expired an hour after NOW
    # Every mail is older than 30 days by then, but only sent and given-up ones go.
    remaining = {m.subject for m in db.session.scalars(select(OutboxMessage))}
    assert "sent long ago" not in remaining and "given up long ago" not in remaining
    assert first["mails_deleted"] == 3
    # The account itself stays: it is not past any period.
    assert db.session.get(User, town["anna"].id) is not None

    again = privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=later)
    db.session.commit()
    assert again == {
        "bookings_anonymised": 0,
        "audit_events_anonymised": 0,
        "mails_deleted": 0,
        "reset_links_deleted": 0,
        "logins_ended": 0,
        "invitations_deleted": 0,
    }


def test_purge_keeps_what_is_within_the_period(db, town):
    counts = privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=NOW)
    db.session.commit()
    assert counts["bookings_anonymised"] == 0
    assert counts["audit_events_anonymised"] == 0
    assert counts["mails_deleted"] == 0  # waiting mails are never purged
    assert counts["reset_links_deleted"] == 0  # still valid for an hour
    assert db.session.get(Booking, town["past"].id).title == "Annas Geburtstag"
    # An hour and a bit later the reset links have expired.
    counts = privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=NOW + timedelta(hours=2))
    assert counts["reset_links_deleted"] == 2


def test_purge_anonymises_old_audit_events(db, town):
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "join_requested"))
    event.created_at = NOW - timedelta(days=800)
    event.reason = "weil Anna fragt"
    event.details = {"note": "Anna"}
    db.session.commit()

    counts = privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=NOW)
    db.session.commit()

    assert counts["audit_events_anonymised"] == 1
    event = db.session.get(AuditEvent, event.id)
    assert event.action == "join_requested"
    assert event.organisation_id == town["club"].id
    assert (event.actor_id, event.user_id, event.reason, event.details) == (None, None, "", {})
    assert event.anonymised_at == NOW
    newer = db.session.scalars(select(AuditEvent).where(AuditEvent.id != event.id)).all()
    assert newer and all(e.anonymised_at is None for e in newer)
    assert (
        privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=NOW)["audit_events_anonymised"] == 0
    )


def test_a_used_reset_link_is_purged_at_once(db, town):
    for row in db.session.scalars(select(PasswordResetToken)):
        row.used_at = NOW
    db.session.commit()
    assert privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=NOW)["reset_links_deleted"] == 2


def test_the_retention_periods_must_be_positive():
    with pytest.raises(InvalidRequest):
        privacy.RetentionPolicy(months=0)
    policy = privacy.RetentionPolicy.from_config(
        {"RETENTION_MONTHS": "6", "MAIL_RETENTION_DAYS": 7}
    )
    assert (policy.months, policy.mail_days) == (6, 7)
    assert policy.cutoff(datetime(2026, 8, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)


def test_logins_and_invitations_are_exported_deleted_and_purged(db, town):
    """The person's devices and the invitations to their address: in the export, gone with
    the account, and forgotten by ``purge`` once unusable or answered."""
    anna, choir = (
        town["anna"],
        db.session.scalar(
            select(Membership.organisation_id).where(Membership.user_id == town["anna"].id)
        ),
    )
    login_sessions.start(anna, user_agent="Firefox", now=NOW)
    login_sessions.start(anna, remember_for=timedelta(days=30), user_agent="Phone", now=NOW)
    organisations.invite_member(anna, choir, "bert@example.org", now=NOW)
    organisations.invite_member(anna, choir, "anna.private@example.org", now=NOW)
    db.session.commit()

    data = privacy.export_data(anna, now=NOW)
    assert {login["browser"] for login in data["logins"]} == {"Firefox", "Phone"}
    assert data["account"]["email_confirmed_at"] is not None
    bert_data = privacy.export_data(town["bert"], now=NOW)
    assert [i["organisation"] for i in bert_data["invitations"]] == ["Chor Nord"]

    # Two months on: the plain login is stale, the remembered one expired; the invitations
    # expired after 14 days and are older than the 30 days mails are kept.
    later = NOW + timedelta(days=60)
    counts = privacy.purge(POLICY, anonymous_title=PLACEHOLDER, now=later)
    assert counts["logins_ended"] == 2 and counts["invitations_deleted"] == 2
    assert count(db, LoginSession) == 0 and count(db, MemberInvitation) == 0

    login_sessions.start(town["bert"], now=NOW)
    organisations.invite_member(anna, choir, "bert@example.org", now=NOW)
    db.session.commit()
    privacy.delete_account(town["bert"], PASSWORD, anonymous_title=PLACEHOLDER, now=NOW)
    db.session.commit()
    assert count(db, LoginSession) == 0
    assert count(db, MemberInvitation, MemberInvitation.email == "bert@example.org") == 0
