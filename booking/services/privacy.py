"""Privacy (#13): a person's data to take away, deleting one's account, and the retention rule.

- ``export_data``: everything stored about the logged-in person, as plain JSON-ready values (their
  account, memberships, the bookings they asked for with every date, join requests, API and feed
  tokens without their secrets, the audit events about or by them, and the mails to them).
- ``delete_account``: after the password is entered again. Their dates still to come are
  cancelled through the normal cancel path (the sites' managers are told as for any cancel);
  their past bookings stay for the sites' records without anything that names them; their
  tokens, mails, join requests, memberships, sessions and the account itself go; audit events
  keep what happened but no longer say that it was them.
- ``purge`` (``flask --app booking purge``, daily): the retention rule. Bookings whose last
  date is older than the retention period are anonymised like a deleted account's, and so are
  audit events of that age; sent and given-up mails older than the mail period, and used or
  expired password-reset links are deleted. Each thing is done once (``anonymised_at``), so a
  second run finds nothing.

A private booking's title is free text that may name people ("Anna's 40th birthday"), so an
anonymised private booking gets ``anonymous_title`` instead (the surface passes the placeholder
in the platform's default language: services know no languages). A public booking's title was
published in the room's calendar with the requester's consent and describes the event, not the
person; it stays, so the site's public record of what took place stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from booking.database import begin_write
from booking.extensions import db
from booking.models import (
    ApiToken,
    AuditEvent,
    Booking,
    FeedToken,
    JoinRequest,
    JoinStatus,
    MemberInvitation,
    MemberRole,
    Membership,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    OutboxMessage,
    PasswordResetToken,
    Room,
    User,
    utcnow,
)
from booking.services import accounts, audit, decisions, login_sessions
from booking.services.errors import N_, InvalidRequest
from booking.services.passwords import verify_password
from booking.services.permissions import require_user

RETENTION_MONTHS = 24
MAIL_RETENTION_DAYS = 30
EXPORT_FORMAT = "raumboerse-export-1"
_LIVE = (OccurrenceStatus.PENDING, OccurrenceStatus.APPROVED)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data are kept (the ``RETENTION_MONTHS`` and ``MAIL_RETENTION_DAYS``
    settings)."""

    months: int = RETENTION_MONTHS
    mail_days: int = MAIL_RETENTION_DAYS

    @classmethod
    def from_config(cls, config) -> RetentionPolicy:
        return cls(
            months=int(config.get("RETENTION_MONTHS", RETENTION_MONTHS)),
            mail_days=int(config.get("MAIL_RETENTION_DAYS", MAIL_RETENTION_DAYS)),
        )

    def __post_init__(self) -> None:
        if self.months < 1 or self.mail_days < 1:
            raise InvalidRequest(
                N_("Retention periods must be at least one month and one day."),
                code="retention_invalid",
            )

    def cutoff(self, now: datetime) -> datetime:
        """Bookings and audit events from before this are past the retention period."""
        return now - relativedelta(months=self.months)

    def mail_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.mail_days)


# Export ------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_data(user, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything stored about the logged-in person (only their own), ready for ``json.dumps``.

    Secrets never leave: no password hash, no token hashes (an API token is told apart by its
    name and prefix). Other people appear only as far as the person's own records need them:
    organisation, site and room names, not who decided a request.
    """
    user = require_user(user)
    now = now or utcnow()
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(selectinload(Membership.organisation))
        .order_by(Membership.created_at)
    ).all()
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.requested_by_id == user.id)
        .options(
            selectinload(Booking.occurrences),
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
        )
        .order_by(Booking.created_at, Booking.id)
    ).all()
    join_requests = db.session.scalars(
        select(JoinRequest)
        .where(JoinRequest.user_id == user.id)
        .options(selectinload(JoinRequest.organisation))
        .order_by(JoinRequest.created_at, JoinRequest.id)
    ).all()
    api_tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
    ).all()
    feed_tokens = db.session.scalars(select(FeedToken).where(FeedToken.user_id == user.id)).all()
    events = db.session.scalars(
        select(AuditEvent)
        .where(or_(AuditEvent.user_id == user.id, AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    mails = db.session.scalars(
        select(OutboxMessage)
        .where(func.lower(OutboxMessage.recipient) == user.email.lower())
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    logins = login_sessions.of_user(user)
    invitations = db.session.scalars(
        select(MemberInvitation)
        .where(MemberInvitation.email == user.email)
        .options(selectinload(MemberInvitation.organisation))
        .order_by(MemberInvitation.created_at, MemberInvitation.id)
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "account": {
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "created_at": _iso(user.created_at),
            "email_confirmed_at": _iso(user.email_confirmed_at),
            "last_login_at": _iso(user.last_login_at),
            "active": user.active,
            "administrator": user.is_admin,
            "settings": {
                "language": user.language,
                "request_mails": user.request_mails.value,
            },
            "managed_sites": [{"id": s.id, "name": s.name} for s in user.managed_sites],
        },
        "memberships": [
            {
                "organisation_id": m.organisation_id,
                "organisation": m.organisation.name,
                "role": m.role.value,
                "since": _iso(m.created_at),
            }
            for m in memberships
        ],
        "bookings": [_booking_export(b) for b in bookings],
        "join_requests": [
            {
                "organisation_id": r.organisation_id,
                "organisation": r.organisation.name,
                "message": r.message,
                "status": r.status.value,
                "created_at": _iso(r.created_at),
                "decided_at": _iso(r.decided_at),
            }
            for r in join_requests
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in api_tokens
        ],
        "feed_tokens": [{"created_at": _iso(t.created_at)} for t in feed_tokens],
        "logins": [
            {
                "created_at": _iso(login.created_at),
                "browser": login.user_agent,
                "stays_logged_in_until": _iso(login.remember_until),
            }
            for login in logins
        ],
        "invitations": [
            {
                "organisation": i.organisation.name,
                "role": i.role.value,
                "status": i.status.value,
                "created_at": _iso(i.created_at),
                "answered_at": _iso(i.answered_at),
            }
            for i in invitations
        ],
        "audit_events": [
            {
                "id": e.id,
                "at": _iso(e.created_at),
                "action": e.action,
                "role": "subject" if e.user_id == user.id else "actor",
                "booking_id": e.booking_id,
                "site_id": e.site_id,
                "room_id": e.room_id,
                "organisation_id": e.organisation_id,
                "reason": e.reason,
                "details": e.details or {},
            }
            for e in events
        ],
        "mails": [
            {
                "subject": m.subject,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
                "status": _mail_status(m),
            }
            for m in mails
        ],
    }


def _mail_status(message: OutboxMessage) -> str:
    if message.sent_at is not None:
        return "sent"
    return "waiting" if message.next_attempt_at is not None else "given_up"


def _booking_export(booking: Booking) -> dict[str, Any]:
    room = booking.room
    return {
        "id": booking.id,
        "title": booking.title,
        "description": booking.description,
        "site": room.site.name,
        "room": room.name,
        "organisation": booking.organisation.name if booking.organisation else None,
        "attendees": booking.attendees,
        "public": booking.is_public,
        "rrule": booking.rrule,
        "house_rules_accepted_at": _iso(booking.house_rules_accepted_at),
        "created_at": _iso(booking.created_at),
        "updated_at": _iso(booking.updated_at),
        "occurrences": [
            {
                "id": o.id,
                "starts_at": _iso(o.starts_at),
                "ends_at": _iso(o.ends_at),
                "status": o.status.value,
                "reason": o.status_reason,
                "decided_at": _iso(o.decided_at),
            }
            for o in booking.occurrences
        ],
    }


# Deleting an account -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeletionPreview:
    """What deleting the account would do, for the confirmation page."""

    upcoming_dates: int  # pending or approved dates still to come: they will be cancelled
    bookings: int  # bookings they asked for: kept for the sites, without their name
    last_admin: bool  # the last active administrator cannot delete their account
    organisations_left_without_admin: list[Organisation]


def _upcoming_dates(user: User, now: datetime):
    return (
        select(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(
            Booking.requested_by_id == user.id,
            Occurrence.status.in_(_LIVE),
            Occurrence.ends_at > now,
        )
    )


def _is_last_admin(user: User) -> bool:
    """The rule of the people administration (``people._guard_last_admin``): someone active must
    keep administrator rights."""
    if not (user.is_admin and user.active):
        return False
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.is_admin.is_(True), User.active.is_(True), User.id != user.id
        )
    )
    return not others


def _sole_admin_of(user: User) -> list[Organisation]:
    """Organisations with other members in which ``user`` is the only admin. Deleting the account
    leaves them without an admin: the organisation, its members and bookings stay, and the
    platform's administrators answer its join requests and can appoint a new admin."""
    result = []
    for membership in user.memberships:
        organisation = membership.organisation
        if membership.role is not MemberRole.ADMIN:
            continue
        admins = [m for m in organisation.memberships if m.role is MemberRole.ADMIN]
        if len(admins) == 1 and len(organisation.memberships) > 1:
            result.append(organisation)
    return sorted(result, key=lambda o: o.name)


def deletion_preview(user, *, now: datetime | None = None) -> DeletionPreview:
    user = require_user(user)
    now = now or utcnow()
    upcoming = db.session.scalar(
        select(func.count()).select_from(_upcoming_dates(user, now).subquery())
    )
    bookings = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.requested_by_id == user.id)
    )
    return DeletionPreview(upcoming or 0, bookings or 0, _is_last_admin(user), _sole_admin_of(user))


@dataclass(frozen=True)
class DeletedAccount:
    cancelled_dates: int
    anonymised_bookings: int


def delete_account(
    user, password: str, *, anonymous_title: str, now: datetime | None = None
) -> DeletedAccount:
    """Delete the logged-in person's account after they entered their password again.

    Refused (``InvalidRequest``, nothing changed) for a wrong password (code
    ``password_wrong``) and for the last active administrator (code ``last_admin``). The last
    admin of an organisation may go; the organisation stays (see ``_sole_admin_of``).
    """
    user = require_user(user)
    now = now or utcnow()
    begin_write()  # SQLite: the write lock before anything is read
    if not verify_password(user.password_hash, password or ""):
        raise InvalidRequest(N_("The password is not right."), "password", code="password_wrong")
    if _is_last_admin(user):
        raise InvalidRequest(
            N_(
                "You are the last active administrator. Please make someone else an"
                " administrator before you delete your account."
            ),
            None,
            code="last_admin",
        )
    # Dates still to come are cancelled the normal way: the room is free again and the site's
    # managers are told (as for any cancel by a requester).
    upcoming = list(db.session.scalars(_upcoming_dates(user, now)))
    by_booking: dict[int, list[int]] = {}
    for occurrence in upcoming:
        by_booking.setdefault(occurrence.booking_id, []).append(occurrence.id)
    for booking_id, occurrence_ids in sorted(by_booking.items()):
        decisions.cancel(user, booking_id, occurrence_ids, now=now)

    bookings = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.requested_by_id == user.id)
            .options(selectinload(Booking.occurrences))
        )
    )
    for booking in bookings:
        _strip_booking(booking, anonymous_title)
    booking_ids = [b.id for b in bookings]
    if booking_ids:
        # Managers' reasons on these dates may name the person; the events copy them.
        db.session.execute(
            update(AuditEvent).where(AuditEvent.booking_id.in_(booking_ids)).values(reason="")
        )
    # Events about the person lose who and why; events by them lose who (what changed in a
    # site's records stays) and the text they wrote.
    db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.user_id == user.id)
        .values(user_id=None, reason="", details={})
    )
    db.session.execute(
        update(AuditEvent).where(AuditEvent.actor_id == user.id).values(actor_id=None, reason="")
    )
    db.session.execute(
        update(Occurrence).where(Occurrence.decided_by_id == user.id).values(decided_by_id=None)
    )
    db.session.execute(
        update(JoinRequest).where(JoinRequest.decided_by_id == user.id).values(decided_by_id=None)
    )
    db.session.execute(
        delete(OutboxMessage).where(func.lower(OutboxMessage.recipient) == user.email.lower())
    )
    for model in (PasswordResetToken, ApiToken, FeedToken, JoinRequest):
        db.session.execute(delete(model).where(model.user_id == user.id))
    # Invitations name the address; answered ones keep nothing of the person either.
    db.session.execute(delete(MemberInvitation).where(MemberInvitation.email == user.email))
    for column in (MemberInvitation.invited_by_id, MemberInvitation.answered_by_id):
        db.session.execute(update(MemberInvitation).where(column == user.id).values({column: None}))
    accounts.end_all_sessions(user)
    user.managed_sites = []
    db.session.delete(user)  # memberships go with it
    audit.record(
        "account_deleted",
        None,
        cancelled_dates=len(upcoming),
        anonymised_bookings=len(bookings),
    )
    db.session.flush()
    return DeletedAccount(len(upcoming), len(bookings))


def _strip_booking(booking: Booking, anonymous_title: str) -> None:
    """Take out what names the requester: the link to them, the free texts, the submission
    key (the API's holds the account's id); a private booking's title (see module docstring)."""
    booking.requested_by = None
    booking.description = ""
    booking.submission_key = None
    booking.submission_digest = None
    if not booking.is_public:
        booking.title = anonymous_title
    for occurrence in booking.occurrences:
        if occurrence.status_reason:
            occurrence.status_reason = ""


# The retention rule ------------------------------------------------------------------------


def purge(
    policy: RetentionPolicy, *, anonymous_title: str, now: datetime | None = None
) -> dict[str, int]:
    """One run of the retention rule; returns how many of each kind it handled. Idempotent."""
    now = now or utcnow()
    begin_write()
    cutoff = policy.cutoff(now)
    last_date = (
        select(func.max(Occurrence.ends_at))
        .where(Occurrence.booking_id == Booking.id)
        .correlate(Booking)
        .scalar_subquery()
    )
    old_bookings = list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.anonymised_at.is_(None),
                func.coalesce(last_date, Booking.created_at) < cutoff,
            )
            .options(selectinload(Booking.occurrences))
            .order_by(Booking.id)
        )
    )
    for booking in old_bookings:
        _strip_booking(booking, anonymous_title)
        for occurrence in booking.occurrences:
            if occurrence.decided_by_id is not None:
                occurrence.decided_by_id = None
        booking.anonymised_at = now
    db.session.flush()
    events = db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.anonymised_at.is_(None), AuditEvent.created_at < cutoff)
        .values(actor_id=None, user_id=None, reason="", details={}, anonymised_at=now)
    ).rowcount
    mail_cutoff = policy.mail_cutoff(now)
    mails = db.session.execute(
        delete(OutboxMessage).where(
            or_(
                OutboxMessage.sent_at < mail_cutoff,
                # Given up: neither sent nor due again (the outbox's own marks).
                (
                    OutboxMessage.sent_at.is_(None)
                    & OutboxMessage.next_attempt_at.is_(None)
                    & (OutboxMessage.created_at < mail_cutoff)
                ),
            )
        )
    ).rowcount
    tokens = db.session.execute(
        delete(PasswordResetToken).where(
            or_(PasswordResetToken.used_at.is_not(None), PasswordResetToken.expires_at <= now)
        )
    ).rowcount
    # Logins that can no longer be used (a closed browser, an expired "stay logged in").
    logins = login_sessions.purge(now)
    # Invitations hold an address that may have no account: answered, withdrawn or expired
    # ones go after as long as sent mails are kept.
    invitations = db.session.execute(
        delete(MemberInvitation).where(
            or_(
                MemberInvitation.status != JoinStatus.PENDING,
                MemberInvitation.expires_at <= now,
            ),
            MemberInvitation.created_at < mail_cutoff,
        )
    ).rowcount
    db.session.flush()
    return {
        "bookings_anonymised": len(old_bookings),
        "audit_events_anonymised": events or 0,
        "mails_deleted": mails or 0,
        "reset_links_deleted": tokens or 0,
        "logins_ended": logins,
        "invitations_deleted": invitations or 0,
    }
