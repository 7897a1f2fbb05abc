"""Mails about accounts and bookings: what to tell whom, put in the outbox by the services.

Called by the services at the end of a change, inside its transaction: if the change is rolled
back, the mail is never sent. The outbox row keeps the notice; the mail itself is written after
the answer (or by the worker), so rendering it costs the request nothing. What a mail *says*
(its language, wording, links) is the surface's business: the application installs a
``Renderer`` (``booking.mails``) that turns a ``Notice`` into subject and text, so services stay
free of templates and request state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from booking.extensions import db
from booking.models import (
    Booking,
    JoinRequest,
    JoinStatus,
    MemberInvitation,
    MemberRole,
    Occurrence,
    OccurrenceStatus,
    RequestMails,
    User,
)
from booking.models.mail import Attachment, OutboxMessage
from booking.services import mail


@dataclass(frozen=True)
class MailDate:
    """One date of a booking as the mail shows it: aware times in the site's zone."""

    starts_at: datetime
    ends_at: datetime
    status: OccurrenceStatus
    reason: str
    room: str = ""  # the room's name, where a mail names each date's room (a move)
    previous: tuple[datetime, datetime] | None = None  # a moved date's old start and end
    occurrence_id: int | None = None  # the date's row (its calendar UID in the .ics attachment)


@dataclass(frozen=True)
class Notice:
    """Something to tell ``recipient``: ``kind`` names the mail, ``path`` the page it links to
    (relative to the site's base URL), ``values`` what the text needs."""

    # "password_reset", "confirm_address", "already_registered" (about an account);
    # "booking_received", "booking_changed", "booking_moved" (to requesters);
    # "request_received", "request_digest", "dates_cancelled" (to site managers);
    # "join_request" (to an organisation's admins), "join_decided" (to who asked to join)
    kind: str
    recipient: User | Addressee
    path: str
    booking: Booking | None = None
    dates: tuple[MailDate, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()  # e.g. the approved dates as an .ics file


Renderer = Callable[[Notice], RenderedMail]
_renderer: Renderer | None = None


def use_renderer(renderer: Renderer) -> None:
    """Install how notices become mails (done once by the application factory)."""
    global _renderer
    _renderer = renderer


def _post(notice: Notice) -> None:
    """Put a notice in the outbox. The mail is written later, off the request's path: the row
    keeps what the mail needs (``encode``); the surface renders it once the answer is sent, or
    the mail worker before sending (``write_mail``). A notice that cannot be kept that way (the
    managers' digest, written by a command anyway) is rendered at once."""
    if _renderer is None:
        raise RuntimeError("No mail renderer installed: create the app first.")
    try:
        data = encode(notice)
    except Unencodable:
        rendered = _renderer(notice)
        mail.enqueue(
            notice.recipient.email,
            rendered.subject,
            rendered.text,
            rendered.html,
            rendered.attachments,
        )
        return
    mail.enqueue_notice(notice.recipient.email, data)


def write_mail(message: OutboxMessage) -> None:
    """Write the mail of an outbox row that still holds only its notice (the renderer decides
    the words, in the recipient's language as it is now); the notice's data then goes."""
    if _renderer is None:
        raise RuntimeError("No mail renderer installed: create the app first.")
    rendered = _renderer(decode(message.notice or "{}"))
    message.subject = mail.header_text(rendered.subject)[:300]
    message.body_text = rendered.text
    message.body_html = OutboxMessage.pack_html(rendered.html, tuple(rendered.attachments))
    message.notice = None


mail.use_filler(write_mail)


# Keeping a notice on its outbox row -----------------------------------------------------------
#
# JSON with the ids of what the mail is about (the booking and the recipient are read again when
# it is written, a few seconds later) and the dates as they were at the change, with their status
# and reason: a later change to a date must not rewrite what this mail reports.


class Unencodable(TypeError):
    """A value a notice cannot keep as JSON; the mail is then rendered at once."""


NOTICE_FORMAT = 1


def _date_to_json(d: MailDate) -> list:
    return [
        d.starts_at.isoformat(),
        d.ends_at.isoformat(),
        d.status.value,
        d.reason,
        d.room,
        [d.previous[0].isoformat(), d.previous[1].isoformat()] if d.previous else None,
        d.occurrence_id,
    ]


def _value_to_json(value: Any) -> Any:
    if isinstance(value, OccurrenceStatus):  # a StrEnum: before plain strings
        return {"$status": value.value}
    if isinstance(value, Enum):
        raise Unencodable(type(value).__name__)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, MailDate) for v in value):
            return {"$dates": [_date_to_json(v) for v in value]}
        return [_value_to_json(v) for v in value]
    raise Unencodable(type(value).__name__)


def encode(notice: Notice) -> str:
    recipient = notice.recipient
    if isinstance(recipient, User):
        who: dict[str, Any] = {"user": recipient.id}
    else:
        who = {"email": recipient.email, "name": recipient.name, "language": recipient.language}
    booking = notice.booking
    return json.dumps(
        {
            "format": NOTICE_FORMAT,
            "kind": notice.kind,
            "recipient": who,
            "path": notice.path,
            "booking": booking.id if booking is not None else None,
            "dates": [_date_to_json(d) for d in notice.dates],
            "values": {k: _value_to_json(v) for k, v in notice.values.items()},
        }
    )


def _when(text: str, zone: ZoneInfo | None) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.astimezone(zone) if zone is not None else moment


def _date_from_json(row: list, zone: ZoneInfo | None) -> MailDate:
    starts, ends, status, reason, room, previous, occurrence_id = row
    return MailDate(
        _when(starts, zone),
        _when(ends, zone),
        OccurrenceStatus(status),
        reason,
        room,
        (_when(previous[0], zone), _when(previous[1], zone)) if previous else None,
        occurrence_id,
    )


def _value_from_json(value: Any, zone: ZoneInfo | None) -> Any:
    if isinstance(value, list):
        return tuple(_value_from_json(v, zone) for v in value)
    if isinstance(value, dict):
        if "$status" in value:
            return OccurrenceStatus(value["$status"])
        if "$datetime" in value:
            return _when(value["$datetime"], zone)
        if "$dates" in value:
            return tuple(_date_from_json(d, zone) for d in value["$dates"])
    return value


def decode(text: str) -> Notice:
    """The notice an outbox row keeps; ``LookupError`` if what it is about has gone."""
    data = json.loads(text)
    if data.get("format") != NOTICE_FORMAT:
        raise ValueError(f"unknown notice format {data.get('format')!r}")
    who = data["recipient"]
    if "user" in who:
        recipient: User | Addressee | None = db.session.get(User, who["user"])
        if recipient is None:
            raise LookupError(f"the recipient (user {who['user']}) no longer exists")
    else:
        recipient = Addressee(who["email"], who.get("name", ""), who.get("language", "de"))
    booking = None
    zone = None
    if data.get("booking") is not None:
        booking = db.session.get(Booking, data["booking"])
        if booking is None:
            raise LookupError(f"booking {data['booking']} no longer exists")
        zone = ZoneInfo(booking.room.site.timezone)
    return Notice(
        data["kind"],
        recipient,
        data["path"],
        booking=booking,
        dates=tuple(_date_from_json(d, zone) for d in data.get("dates", [])),
        values={k: _value_from_json(v, zone) for k, v in data.get("values", {}).items()},
    )


def _dates(booking: Booking, occurrences: Iterable[Occurrence]) -> tuple[MailDate, ...]:
    zone = ZoneInfo(booking.room.site.timezone)
    return tuple(
        MailDate(
            o.starts_at.astimezone(zone),
            o.ends_at.astimezone(zone),
            o.status,
            o.status_reason,
            occurrence_id=o.id,
        )
        for o in sorted(occurrences, key=lambda o: o.starts_at)
    )


def send_password_reset(user: User, token: str, expires_in_minutes: int) -> None:
    """The reset link holds the only copy of the token; the database keeps its hash."""
    _post(
        Notice(
            "password_reset",
            user,
            f"/password-reset/{token}",
            values={"minutes": expires_in_minutes},
        )
    )


def send_address_confirmation(
    user: User, token: str, expires_in_hours: int, next_path: str
) -> None:
    """A new registration's link; it confirms the address and logs the person in."""
    path = f"/register/confirm/{token}"
    if next_path:
        path += "?" + urlencode({"next": next_path})
    _post(Notice("confirm_address", user, path, values={"hours": expires_in_hours}))


def send_already_registered(user: User) -> None:
    """Someone registered with an address that has an account: tell its owner, nobody else."""
    _post(Notice("already_registered", user, "/login"))


@dataclass(frozen=True)
class Addressee:
    """Someone to write to who may have no account (an invitation to an organisation)."""

    email: str
    name: str = ""
    language: str = "de"


def send_member_invitation(
    invitation: MemberInvitation, account: User | None, token: str, expires_in_days: int
) -> None:
    """The invitation to join an organisation, in the account's language if the address has
    one (the inviter's otherwise); the link holds the only copy of the token."""
    inviter = invitation.invited_by
    recipient = account or Addressee(
        invitation.email, language=inviter.language if inviter else "de"
    )
    _post(
        Notice(
            "member_invitation",
            recipient,
            f"/organisations/invitations/{token}",
            values={
                "organisation": invitation.organisation.name,
                "inviter": inviter.name if inviter else "",
                "admin": invitation.role is MemberRole.ADMIN,
                "days": expires_in_days,
                "has_account": account is not None,
            },
        )
    )


def notify_invitation_answered(invitation: MemberInvitation) -> None:
    """Tell who invited someone that the invitation was accepted (with the member's name: they
    chose to be seen) or declined (only the address the inviter typed)."""
    inviter = invitation.invited_by
    if inviter is None or not inviter.active:
        return
    accepted = invitation.status is JoinStatus.ACCEPTED
    member = invitation.answered_by
    _post(
        Notice(
            "invitation_answered",
            inviter,
            f"/organisations/{invitation.organisation_id}",
            values={
                "organisation": invitation.organisation.name,
                "accepted": accepted,
                "member": member.name if accepted and member is not None else "",
                "address": invitation.email,
            },
        )
    )


def send_invitation(user: User, token: str, invited_for: str, expires_in_days: int) -> None:
    """A new account's first mail: why it exists and the link to choose a password."""
    _post(
        Notice(
            "invitation",
            user,
            f"/password-reset/{token}",
            values={"invited_for": invited_for, "days": expires_in_days},
        )
    )


def notify_booking_received(booking: Booking) -> None:
    """Tell the requester which dates were booked and whether they still wait for approval."""
    user = booking.requested_by
    if user is None or not booking.occurrences:
        return
    dates = _dates(booking, booking.occurrences)
    pending = any(d.status is OccurrenceStatus.PENDING for d in dates)
    _post(
        Notice(
            "booking_received",
            user,
            "/my/bookings",
            booking=booking,
            dates=dates,
            values={"pending": pending},
        )
    )


def notify_booking_changed(
    booking: Booking,
    occurrences: Iterable[Occurrence],
    actor,
    *,
    now: datetime | None = None,
) -> None:
    """Tell the requester that a manager (or a fellow member) approved, declined or cancelled
    dates: one mail per decision. Nobody is told about their own action.

    An approval that leaves other upcoming dates of the booking unapproved (still waiting,
    declined or cancelled) is a partial approval: the mail lists those dates too, each with its
    status and reason, so the requester knows which dates they have and which not."""
    user = booking.requested_by
    changed = list(occurrences)
    if user is None or not changed or getattr(actor, "id", None) == user.id:
        return
    status = changed[0].status
    others: tuple[MailDate, ...] = ()
    if status is OccurrenceStatus.APPROVED:
        now = now or datetime.now(UTC)
        ids = {o.id for o in changed}
        others = _dates(
            booking,
            (
                o
                for o in booking.occurrences
                if o.id not in ids and o.status is not OccurrenceStatus.APPROVED and o.ends_at > now
            ),
        )
    _post(
        Notice(
            "booking_changed",
            user,
            "/my/bookings",
            booking=booking,
            dates=_dates(booking, changed),
            values={"status": status, "others": others, "partial": bool(others)},
        )
    )


def notify_booking_moved(
    booking: Booking,
    occurrences: Iterable[Occurrence],
    previous: dict[int, tuple[datetime, datetime]],
    actor,
    reason: str = "",
) -> None:
    """Tell the requester that a manager (or a fellow member) gave dates new times or a new
    room: each date's old and new time, and why. Nobody is told about their own change."""
    user = booking.requested_by
    moved = sorted(occurrences, key=lambda o: o.starts_at)
    if user is None or not moved or getattr(actor, "id", None) == user.id:
        return
    zone = ZoneInfo(booking.room.site.timezone)
    dates = tuple(
        MailDate(
            o.starts_at.astimezone(zone),
            o.ends_at.astimezone(zone),
            o.status,
            o.status_reason,
            room=o.room.name,
            previous=tuple(t.astimezone(zone) for t in previous[o.id]),
            occurrence_id=o.id,
        )
        for o in moved
    )
    _post(
        Notice(
            "booking_moved",
            user,
            "/my/bookings",
            booking=booking,
            dates=dates,
            values={"reason": reason},
        )
    )


# A manager's mail about one request shows this many of its dates, then how many more.
DATES_SHOWN = 5


def _request_link(booking: Booking) -> str:
    return f"/manage/requests?site={booking.room.site_id}&room={booking.room_id}"


def notify_new_request(booking: Booking) -> None:
    """Tell the site's managers who want a mail for each request ("each") that ``booking``
    waits for their answer: its pending dates (the first few and how many), with a link to the
    site's and room's open requests. Dates approved straight away need no answer, and a
    requester who manages the site has their receipt already."""
    pending = [o for o in booking.occurrences if o.status is OccurrenceStatus.PENDING]
    if not pending:
        return
    dates = _dates(booking, pending)
    for manager in booking.room.site.managers:
        if (
            not manager.active
            or manager.request_mails is not RequestMails.EACH
            or manager.id == booking.requested_by_id
        ):
            continue
        _post(
            Notice(
                "request_received",
                manager,
                _request_link(booking),
                booking=booking,
                dates=dates[:DATES_SHOWN],
                values={"count": len(dates), "more": max(len(dates) - DATES_SHOWN, 0)},
            )
        )


def notify_dates_cancelled(booking: Booking, occurrences: Iterable[Occurrence], actor) -> None:
    """Tell the site's managers that the requester's side (the requester or a fellow member)
    cancelled dates, so they know the room is free again at those times. Managers who chose
    no e-mails about requests get none; a manager's own cancellation tells no manager."""
    cancelled = list(occurrences)
    site = booking.room.site
    if not cancelled or any(m.id == getattr(actor, "id", None) for m in site.managers):
        return
    dates = _dates(booking, cancelled)
    for manager in site.managers:
        if not manager.active or manager.request_mails is RequestMails.NONE:
            continue
        _post(
            Notice(
                "dates_cancelled",
                manager,
                f"/rooms/{booking.room_id}",
                booking=booking,
                dates=dates[:DATES_SHOWN],
                values={
                    "count": len(dates),
                    "more": max(len(dates) - DATES_SHOWN, 0),
                    "cancelled_by": getattr(actor, "name", ""),
                },
            )
        )


@dataclass(frozen=True)
class DigestRequest:
    """One request in a manager's daily summary: its first pending dates and how many."""

    booking: Booking
    dates: tuple[MailDate, ...]
    count: int
    link: str  # the site's and room's open requests, relative to the site's base URL


def digest_request(booking: Booking, pending: Sequence[Occurrence]) -> DigestRequest:
    dates = _dates(booking, pending)
    return DigestRequest(booking, dates[:DATES_SHOWN], len(dates), _request_link(booking))


def notify_request_digest(manager: User, requests: Sequence[DigestRequest], waiting: int) -> None:
    """A manager's daily summary: the ``requests`` that came in since the last one, and how
    many requests wait at their sites in all (``waiting``)."""
    _post(
        Notice(
            "request_digest",
            manager,
            "/manage/requests",
            values={"requests": tuple(requests), "waiting": waiting},
        )
    )


def notify_join_request(request: JoinRequest, recipients: Iterable[User]) -> None:
    """Tell an organisation's admins that someone asks to join it, with their message and a
    link to the organisation's page, where they answer."""
    for admin in recipients:
        if admin.id == request.user_id:
            continue
        _post(
            Notice(
                "join_request",
                admin,
                f"/organisations/{request.organisation_id}",
                values={
                    "organisation": request.organisation.name,
                    "requester": request.user.name,
                    "message": request.message,
                },
            )
        )


def notify_join_decided(request: JoinRequest, reason: str = "") -> None:
    """Tell who asked to join whether they were let in (then with a link to the organisation)
    or not (then with the reason the admin gave, if any)."""
    accepted = request.status is JoinStatus.ACCEPTED
    _post(
        Notice(
            "join_decided",
            request.user,
            f"/organisations/{request.organisation_id}" if accepted else "/organisations",
            values={
                "organisation": request.organisation.name,
                "accepted": accepted,
                "reason": reason,
            },
        )
    )
