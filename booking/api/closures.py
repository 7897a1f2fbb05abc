"""Closures in the API: add one (``POST /closures``) or import an iCalendar file for a site
(``POST /sites/<id>/closures/import``); both answer with the approved and pending dates the
closures hit, which are not changed (cancel them with ``POST /bookings/<id>/cancel``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from booking.api import bp
from booking.api.schemas import MAX_ID, Text
from booking.api.spec import Refusal, operation
from booking.models import Closure, OccurrenceStatus, User
from booking.services import closures
from booking.services.errors import N_, InvalidRequest

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ClosureIn(BaseModel):
    """A closure of a site (``room_id`` null) or of one of its rooms (and so its parts and the
    whole it belongs to). Give the period as ``from``/``to`` (local dates, both days included)
    or as ``starts_at``/``ends_at`` (times; without an offset: the site's wall time)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"site_id": 1, "from": "2027-03-01", "to": "2027-03-12", "reason": "Renovation"},
                {
                    "site_id": 1,
                    "room_id": 4,
                    "starts_at": "2027-02-10T16:00",
                    "ends_at": "2027-02-10T22:00",
                    "reason": "Floor sealing",
                },
            ]
        },
    )

    site_id: Id
    room_id: Id | None = Field(None, description="A room of the site; null: the whole site.")
    from_: date | None = Field(None, alias="from", description="First local day (inclusive).")
    to: date | None = Field(None, description="Last local day (inclusive).")
    starts_at: datetime | None = Field(None, description="Start (instead of `from`).")
    ends_at: datetime | None = Field(None, description="End (instead of `to`).")
    reason: Text = Field(max_length=closures.REASON_MAX, description="Required, shown to users.")


class ClosureOut(BaseModel):
    id: int
    site_id: int
    room_id: int | None
    starts_at: datetime = Field(description="In the site's zone.")
    ends_at: datetime = Field(description="In the site's zone (exclusive).")
    reason: str
    source_uid: str | None = Field(description="The UID of the imported calendar event.")


class HitDateOut(BaseModel):
    """An approved or pending upcoming date a closure falls on (not changed by it)."""

    occurrence_id: int
    booking_id: int
    room_id: int
    room: str
    starts_at: datetime
    ends_at: datetime
    status: OccurrenceStatus
    title: str
    organisation: str | None
    closure_id: int = Field(description="The (first) closure it falls on.")


class ClosureCreatedOut(BaseModel):
    closure: ClosureOut
    hit_dates: list[HitDateOut]


class ClosureImportOut(BaseModel):
    site_id: int
    created: int
    changed: int
    unchanged: int
    closure_ids: list[int] = Field(description="The closures of the file's events.")
    hit_dates: list[HitDateOut]


def closure_out(closure: Closure, zone: ZoneInfo) -> ClosureOut:
    return ClosureOut(
        id=closure.id,
        site_id=closure.site_id,
        room_id=closure.room_id,
        starts_at=closure.starts_at.astimezone(zone),
        ends_at=closure.ends_at.astimezone(zone),
        reason=closure.reason,
        source_uid=closure.source_uid,
    )


def hit_out(hit: closures.HitDate, zone: ZoneInfo) -> HitDateOut:
    occ, booking = hit.occurrence, hit.booking
    return HitDateOut(
        occurrence_id=occ.id,
        booking_id=booking.id,
        room_id=occ.room_id,
        room=occ.room.name,
        starts_at=occ.starts_at.astimezone(zone),
        ends_at=occ.ends_at.astimezone(zone),
        status=occ.status,
        title=booking.title,
        organisation=booking.organisation.name if booking.organisation else None,
        closure_id=hit.closure.id,
    )


def _side(day: date | None, moment: datetime | None, names: tuple[str, str]):
    if day is not None and moment is not None:
        raise InvalidRequest(
            N_("Give either %(a)s or %(b)s, not both."),
            names[0],
            code="period_ambiguous",
            a=names[0],
            b=names[1],
        )
    return moment if moment is not None else day


@operation(
    bp,
    "POST",
    "/closures",
    summary="Add a closure (the site's managers, administrators)",
    tag="Administration",
    response=ClosureCreatedOut,
    status=201,
    body=ClosureIn,
    auth="required",
    errors=(403, 404),
    refusals=(
        Refusal("from", "period_ambiguous", "Give either `from` or `starts_at`, not both."),
        Refusal("from", "from_missing", "Give `from` or `starts_at`."),
        Refusal("to", "to_missing", "Give `to` or `ends_at`."),
        Refusal("to", "end_before_start", "The end must be after the start."),
        Refusal("to", "period_too_long", "The period is too long."),
        Refusal("ends_at", "end_before_start", "The end must be after the start."),
        Refusal("ends_at", "period_too_long", "The period is too long."),
        Refusal("reason", "reason_missing", "A reason of spaces only."),
        Refusal("room_id", "room_unknown", "Not a room of this site."),
    ),
)
def create_closure(user: User, body: ClosureIn):
    """Closes a site or one of its rooms for a period. Bookings are not changed: `hit_dates`
    lists the approved and pending upcoming dates the closure falls on (of the room, its parts
    and the whole it belongs to). Errors name the field: `from`/`to` (or `starts_at`/`ends_at`),
    `reason`, `room_id` (not a room of this site)."""
    closures.site_for_closures(user, body.site_id)  # 404/403 before any 422
    start = _side(body.from_, body.starts_at, ("from", "starts_at"))
    end = _side(body.to, body.ends_at, ("to", "ends_at"))
    command = closures.ClosureCommand(start, end, body.reason, body.room_id)
    try:
        closure = closures.create_closure(user, body.site_id, command)
    except InvalidRequest as exc:
        renamed = {"from": body.starts_at, "to": body.ends_at}
        if exc.field in renamed and renamed[exc.field] is not None:
            exc.field = {"from": "starts_at", "to": "ends_at"}[exc.field]
        raise
    zone = ZoneInfo(closure.site.timezone)
    hits = closures.hit_dates(user, closure.site_id, [closure.id])
    return ClosureCreatedOut(
        closure=closure_out(closure, zone), hit_dates=[hit_out(h, zone) for h in hits]
    )


@operation(
    bp,
    "POST",
    "/sites/<int:site_id>/closures/import",
    summary="Import closures from an iCalendar file (the site's managers, administrators)",
    tag="Administration",
    response=ClosureImportOut,
    auth="required",
    errors=(403,),
    body_media="text/calendar",
    refusals=(
        Refusal("body", "ics_unreadable", "Not an iCalendar file."),
        Refusal("body", "ics_empty", "A calendar without events."),
    ),
)
def import_closures(user: User, site_id: int, body: bytes):
    """Each event of the `text/calendar` body becomes a closure of the whole site for its
    days, matched by UID: sending the same file again answers 0 created, 0 changed. An
    unreadable file is a 422 with code `ics_unreadable` and field `body`. `hit_dates` lists the
    approved and pending upcoming dates the file's closures fall on (not changed)."""
    site = closures.site_for_closures(user, site_id)
    result = closures.import_ics(user, site.id, body, source="api", field="body")
    zone = ZoneInfo(site.timezone)
    hits = closures.hit_dates(user, site.id, list(result.closure_ids))
    return ClosureImportOut(
        site_id=site.id,
        created=result.created,
        changed=result.changed,
        unchanged=result.unchanged,
        closure_ids=list(result.closure_ids),
        hit_dates=[hit_out(h, zone) for h in hits],
    )
