"""``GET /api/v1/audit``: the audit history of a booking, a room, a site or an organisation,
with the permissions of the history pages (``services.audit.history``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from flask import current_app
from pydantic import BaseModel, Field

from booking import domain
from booking.api import bp
from booking.api.schemas import Id, NoNul, Page, PageQuery, Timestamp
from booking.api.spec import Refusal, operation
from booking.api.views import _decode_cursor, _next_url
from booking.models import User
from booking.services import audit
from booking.services.errors import N_, InvalidRequest


class AuditQuery(PageQuery):
    booking_id: Id | None = Field(None, description="The events of this booking.")
    room_id: Id | None = Field(None, description="The events of this room (its bookings too).")
    site_id: Id | None = Field(
        None, description="The events of this site (its rooms and bookings too)."
    )
    organisation_id: Id | None = Field(None, description="The events of this organisation.")
    user_id: Id | None = Field(None, description="Events about this person (not by them).")
    action: Annotated[str, NoNul, Field(min_length=1, max_length=audit.ACTION_MAX)] | None = Field(
        None, description="Only this action, e.g. `approved`, `room_updated`."
    )
    since: Timestamp | None = Field(
        None, description="Events at or after this time (without an offset: the city's zone)."
    )
    until: Timestamp | None = Field(None, description="Events before this time.")


class AuditActor(BaseModel):
    id: int
    name: str


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: AuditActor | None = Field(description="Who acted; null for the system.")
    action: str = Field(description="A stable snake_case word: `approved`, `room_updated`, …")
    booking_id: int | None
    site_id: int | None
    room_id: int | None
    organisation_id: int | None
    user_id: int | None = Field(description="The person the event is about, if any.")
    reason: str
    details: dict[str, Any] = Field(
        description='What changed, e.g. `{"changes": {"capacity": [30, 12]}}`.'
    )


SUBJECTS = ("booking_id", "room_id", "site_id", "organisation_id")


def _aware(value: datetime | None) -> datetime | None:
    """A time without an offset is wall time in the city's zone (as for the booking list)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return domain.from_local(value, ZoneInfo(current_app.config["BOOKING_TIMEZONE"]))


def event_out(entry: audit.HistoryEntry) -> AuditEventOut:
    actor = None
    if entry.actor_id is not None:
        actor = AuditActor(id=entry.actor_id, name=entry.actor_name or "")
    return AuditEventOut(
        id=entry.id,
        at=entry.at,
        actor=actor,
        action=entry.action,
        booking_id=entry.booking_id,
        site_id=entry.site_id,
        room_id=entry.room_id,
        organisation_id=entry.organisation_id,
        user_id=entry.user_id,
        reason=entry.reason,
        details=entry.details,
    )


@operation(
    bp,
    "GET",
    "/audit",
    summary="Read the audit history",
    tag="Audit",
    response=Page[AuditEventOut],
    query=AuditQuery,
    auth="required",
    errors=(403, 404),
    refusals=(
        Refusal(
            "booking_id",
            "subject_required",
            "Name a booking, room, site or organisation whose history you want.",
        ),
    ),
)
def list_audit(user: User, query: AuditQuery):
    """Who changed what, when and why, newest first. Administrators read every event; a site's
    managers the events of their sites and of the bookings in their rooms; a booking's requester
    and its organisation's members (with `booking_id`) that booking's events. Everyone but an
    administrator names a subject: `booking_id`, `room_id`, `site_id` or `organisation_id`
    (else 422). A booking you cannot see is a 404, a site or room you do not manage a 403."""
    if not user.is_admin and all(getattr(query, name) is None for name in SUBJECTS):
        raise InvalidRequest(
            N_("Name a booking, room, site or organisation whose history you want."),
            "booking_id",
            code="subject_required",
        )
    after = _decode_cursor(query.cursor, 1)
    found = audit.history(
        user,
        booking_id=query.booking_id,
        room_id=query.room_id,
        site_id=query.site_id,
        organisation_id=query.organisation_id,
        user_id=query.user_id,
        action=query.action,
        since=_aware(query.since),
        until=_aware(query.until),
        before_id=after[0] if after else None,
        per_page=query.limit,
    )
    more = found.total > len(found.items)
    return Page[AuditEventOut](
        items=[event_out(e) for e in found.items],
        limit=query.limit,
        next=_next_url((found.items[-1].id,)) if more and found.items else None,
    )
