"""The audit trail: one ``record`` for every change a service makes.

Each event names who acted (``actor``), what it is about (a booking, site, room, organisation or
person: the subject columns), the action (a stable snake_case word such as ``approved``,
``room_updated``, ``closure_created``, ``manager_assigned``), the reason a person gave and the
details of what changed. Events are written in the caller's transaction, so a change that is
rolled back leaves no event either.

``history`` reads them back for a viewer: administrators everything, a site's managers their
sites' events and those of the bookings in their rooms, a booking's parties that booking's
events; each entry with names instead of ids (the booking's title only for who may see it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import AuditEvent, Booking, Organisation, Room, Site, User
from booking.services import permissions, visibility
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted
from booking.services.paging import Paged


def record(
    action: str,
    actor,
    *,
    booking_id: int | None = None,
    site_id: int | None = None,
    room_id: int | None = None,
    organisation_id: int | None = None,
    user_id: int | None = None,
    occurrence_ids: Iterable[int] = (),
    reason: str = "",
    **details: Any,
) -> AuditEvent:
    """Add one audit event to the session. ``details`` must be JSON-serialisable."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        booking_id=booking_id,
        site_id=site_id,
        room_id=room_id,
        organisation_id=organisation_id,
        user_id=user_id,
        occurrence_ids=list(occurrence_ids),
        reason=reason,
        details=details,
    )
    db.session.add(event)
    return event


# --- reading the history ----------------------------------------------------------------------

PER_PAGE_MAX = 200
ACTION_MAX = 50


@dataclass(frozen=True)
class Change:
    """One thing an event changed or set: ``old`` is None where there was nothing before
    (a creation, a list of dates). Rooms named by id are given by name."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    """One event as a reader sees it: names instead of ids, the booking's title only for
    someone who may see the booking, ``actor_name`` None for the system."""

    id: int
    at: datetime
    zone: str | None  # the site's time zone; None: the event names no site
    action: str
    actor_id: int | None
    actor_name: str | None
    booking_id: int | None
    booking_title: str | None
    site_id: int | None
    site_name: str | None
    room_id: int | None
    room_name: str | None
    organisation_id: int | None
    organisation_name: str | None
    user_id: int | None
    user_name: str | None
    reason: str
    changes: list[Change]
    details: dict[str, Any]


@dataclass(frozen=True)
class HistoryPage(Paged):
    items: list[HistoryEntry]
    page: int
    per_page: int
    total: int


def _require_positive(value: int | None, field: str) -> None:
    if value is not None and not (isinstance(value, int) and 1 <= value <= 2_147_483_647):
        raise InvalidRequest(N_("This is not a valid number."), field, code="invalid_id")


def _check_filters(
    page: int, per_page: int, action: str | None, since: datetime | None, until: datetime | None
) -> None:
    if not isinstance(page, int) or page < 1:
        raise InvalidRequest(N_("The page must be 1 or more."), "page", code="invalid_page")
    if not isinstance(per_page, int) or not 1 <= per_page <= PER_PAGE_MAX:
        raise InvalidRequest(
            N_("Show between 1 and %(max)d entries per page."),
            "per_page",
            code="invalid_per_page",
            max=PER_PAGE_MAX,
        )
    if action is not None and (len(action) > ACTION_MAX or not action.strip()):
        raise InvalidRequest(N_("There is no such action."), "action", code="invalid_action")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(N_("Give a time with its zone."), name, code="naive_time")
    if since is not None and until is not None and until <= since:
        raise InvalidRequest(
            N_("The end must be after the start."), "until", code="until_before_since"
        )


def _scope(
    user: User,
    *,
    booking_id: int | None,
    room_id: int | None,
    site_id: int | None,
    organisation_id: int | None,
) -> ColumnElement[bool]:
    """The events ``user`` may read with these subject filters, or NotFound / NotPermitted."""
    managed = permissions.managed_site_ids(user)  # None: an administrator
    party_booking: int | None = None
    if booking_id is not None:
        # Visible to its parties and its site's managers; anyone else learns nothing of it.
        booking = visibility.get_booking(user, booking_id)
        if managed is not None and booking.room.site_id not in managed:
            party_booking = booking.id  # a party: the events of this booking only
    if site_id is not None:
        if db.session.get(Site, site_id) is None:
            raise NotFound(N_("There is no such site."))
        if managed is not None and site_id not in managed and party_booking is None:
            raise NotPermitted(
                N_("Only this site's managers and administrators may see its history."),
                code="not_this_sites_manager",
            )
    if room_id is not None:
        room = db.session.get(Room, room_id)
        if room is None:
            raise NotFound(N_("There is no such room."))
        if managed is not None and room.site_id not in managed and party_booking is None:
            raise NotPermitted(
                N_("Only this site's managers and administrators may see its history."),
                code="not_this_sites_manager",
            )
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise NotFound(N_("There is no such organisation."))
    if managed is None:
        return true()
    if not managed and party_booking is None:
        raise NotPermitted(
            N_("Only administrators and the sites' managers may see the history."),
            code="not_a_manager",
        )
    sites = sorted(managed)
    conditions = [
        AuditEvent.site_id.in_(sites),
        AuditEvent.booking_id.in_(
            select(Booking.id).join(Room, Room.id == Booking.room_id).where(Room.site_id.in_(sites))
        ),
    ]
    if party_booking is not None:
        conditions.append(AuditEvent.booking_id == party_booking)
    return or_(*conditions)


def history(
    viewer,
    *,
    booking_id: int | None = None,
    room_id: int | None = None,
    site_id: int | None = None,
    organisation_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    actor_id: int | None = None,
    actor_email: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> HistoryPage:
    """The audit events ``viewer`` may read that match every filter given, newest first.

    Administrators read everything; a site's managers the events of their sites and of the
    bookings in their rooms; a booking's parties (with ``booking_id``) that booking's events.
    A booking the viewer cannot see is NotFound; a site or room they do not manage NotPermitted.
    ``since`` (inclusive) and ``until`` (exclusive) are aware times; ``before_id`` continues
    a list after the event with that id (the API's cursor).
    """
    user = permissions.require_user(viewer)
    for name, value in (
        ("booking_id", booking_id),
        ("room_id", room_id),
        ("site_id", site_id),
        ("organisation_id", organisation_id),
        ("user_id", user_id),
        ("actor_id", actor_id),
    ):
        _require_positive(value, name)
    _check_filters(page, per_page, action, since, until)
    conditions = [
        _scope(
            user,
            booking_id=booking_id,
            room_id=room_id,
            site_id=site_id,
            organisation_id=organisation_id,
        )
    ]
    for column, value in (
        (AuditEvent.booking_id, booking_id),
        (AuditEvent.room_id, room_id),
        (AuditEvent.site_id, site_id),
        (AuditEvent.organisation_id, organisation_id),
        (AuditEvent.user_id, user_id),
        (AuditEvent.actor_id, actor_id),
        (AuditEvent.action, action),
    ):
        if value is not None:
            conditions.append(column == value)
    if actor_email is not None and actor_email.strip():
        conditions.append(
            AuditEvent.actor_id.in_(
                select(User.id).where(func.lower(User.email) == actor_email.strip().lower())
            )
        )
    if since is not None:
        conditions.append(AuditEvent.created_at >= since)
    if until is not None:
        conditions.append(AuditEvent.created_at < until)
    if before_id is not None:
        conditions.append(AuditEvent.id < before_id)
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return HistoryPage(_present(user, events), page, per_page, total)


def _room_ids_in(details: dict[str, Any]) -> set[int]:
    ids = set()
    if isinstance(details.get("to_room_id"), int):
        ids.add(details["to_room_id"])
    changes = details.get("changes")
    if isinstance(changes, dict) and isinstance(changes.get("parent_id"), list):
        ids.update(v for v in changes["parent_id"] if isinstance(v, int))
    return ids


def _names(model, ids: set[int], column) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, column).where(model.id.in_(sorted(ids)))).all())


def _present(user: User, events: list[AuditEvent]) -> list[HistoryEntry]:
    """Names for the events' ids, each kind in one statement."""
    room_ids = {e.room_id for e in events if e.room_id} | set().union(
        *(_room_ids_in(e.details or {}) for e in events)
    )
    rooms = _names(Room, room_ids, Room.name)
    sites = {
        row.id: row
        for row in db.session.execute(
            select(Site.id, Site.name, Site.timezone).where(
                Site.id.in_(sorted({e.site_id for e in events if e.site_id}))
            )
        )
    }
    organisations = _names(
        Organisation, {e.organisation_id for e in events if e.organisation_id}, Organisation.name
    )
    people = _names(
        User, {i for e in events for i in (e.actor_id, e.user_id) if i is not None}, User.name
    )
    booking_ids = sorted({e.booking_id for e in events if e.booking_id})
    rule = visibility.viewer(user)
    titles = {
        b.id: b.title
        for b in db.session.scalars(
            select(Booking).where(Booking.id.in_(booking_ids)).options(selectinload(Booking.room))
        )
        if rule.can_see(b)
    }
    entries = []
    for e in events:
        site = sites.get(e.site_id) if e.site_id else None
        entries.append(
            HistoryEntry(
                id=e.id,
                at=e.created_at,
                zone=site.timezone if site else None,
                action=e.action,
                actor_id=e.actor_id,
                actor_name=people.get(e.actor_id) if e.actor_id else None,
                booking_id=e.booking_id,
                booking_title=titles.get(e.booking_id) if e.booking_id else None,
                site_id=e.site_id,
                site_name=site.name if site else None,
                room_id=e.room_id,
                room_name=rooms.get(e.room_id) if e.room_id else None,
                organisation_id=e.organisation_id,
                organisation_name=organisations.get(e.organisation_id)
                if e.organisation_id
                else None,
                user_id=e.user_id,
                user_name=people.get(e.user_id) if e.user_id else None,
                reason=e.reason or "",
                changes=_changes_of(e.details or {}, rooms),
                details=dict(e.details or {}),
            )
        )
    return entries


def _changes_of(details: dict[str, Any], rooms: dict[int, str]) -> list[Change]:
    """What an event's details say, field by field: ``changes`` as old and new, any other
    detail as a new value (``windows``, ``dates``, ``to_room_id``, counts, ...)."""

    def named(field: str, value: Any) -> Any:
        if field in ("parent_id", "to_room_id") and isinstance(value, int):
            return rooms.get(value, f"#{value}")
        return value

    result = []
    for field, value in details.items():
        if field == "changes" and isinstance(value, dict):
            for name, pair in value.items():
                if isinstance(pair, list | tuple) and len(pair) == 2:
                    result.append(Change(name, named(name, pair[0]), named(name, pair[1])))
                else:
                    result.append(Change(name, None, named(name, pair)))
        else:
            result.append(Change(field, None, named(field, value)))
    return result
