"""Feed watermarks: which feed scopes a transaction touched, written when it commits.

The listeners are installed when the models are imported, so every writer of the models (the
web, the API, the CLI, imports, scripts) keeps the feeds' ``Last-Modified`` honest.

Calendar apps that get a wrong ``304 Not Modified`` stop updating, so a feed's ``Last-Modified``
must grow with every change and never shrink, not even when rows are deleted. Computing it from
the rows still there (``max(updated_at)``) fails on deletion and on a date moving out of a
feed (to another room, or to "cancelled" in a public feed). Instead every flush that touches a
booking, a date, a room, a site, an organisation, a membership or a manager assignment records
the scopes it affects; ``before_commit`` appends one ``feed_change`` row per scope, stamped with
the commit time rounded up to the next whole second. HTTP dates have whole seconds, and
``feed_validators`` never announces a ``Last-Modified`` later than the second before the request
began, so a change committed after a response was built always has a later stamp than that
response's ``Last-Modified``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from booking.models.bookings import Booking, Occurrence
from booking.models.feeds import FeedChange
from booking.models.people import Membership, Organisation, User
from booking.models.places import Room, Site
from booking.models.types import utcnow

_KEY = "feed_scopes"
EVERYTHING = "*"  # details every feed shows: rooms, sites, organisations
ALL_BOOKINGS = "all"
PUBLIC = "public"


def ceil_second(value: datetime) -> datetime:
    if value.microsecond:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def _history_values(obj, attribute: str) -> set:
    """The attribute's current value and, for a changed object, its value before the change."""
    state = inspect(obj)
    values = {getattr(obj, attribute)}
    history = state.attrs[attribute].history
    values.update(history.deleted or ())
    return {v for v in values if v is not None}


def _site_of(session: Session, room_id: int) -> int | None:
    room = session.get(Room, room_id)
    return room.site_id if room is not None else None


def _booking_scopes(session: Session, booking: Booking) -> set[str]:
    scopes = {ALL_BOOKINGS}
    if booking.id is not None:
        scopes.add(f"booking:{booking.id}")
    for room_id in _history_values(booking, "room_id"):
        site_id = _site_of(session, room_id)
        if site_id is not None:
            scopes.add(f"site:{site_id}")
    scopes.update(f"org:{o}" for o in _history_values(booking, "organisation_id"))
    scopes.update(f"user:{u}" for u in _history_values(booking, "requested_by_id"))
    if any(_history_values(booking, "is_public")):
        scopes.add(PUBLIC)
    return scopes


def _occurrence_scopes(session: Session, occurrence: Occurrence) -> set[str]:
    scopes = {ALL_BOOKINGS}
    for room_id in _history_values(occurrence, "room_id"):
        site_id = _site_of(session, room_id)
        if site_id is not None:
            scopes.add(f"site:{site_id}")
    booking = occurrence.booking
    if booking is None and occurrence.booking_id is not None:
        booking = session.get(Booking, occurrence.booking_id)
    if booking is not None:
        scopes |= _booking_scopes(session, booking)
    return scopes


def _scopes_of(session: Session, obj, deleted: bool) -> set[str]:
    if isinstance(obj, Occurrence):
        return _occurrence_scopes(session, obj)
    if isinstance(obj, Booking):
        return _booking_scopes(session, obj)
    if isinstance(obj, Room | Site | Organisation):
        return {EVERYTHING}
    if isinstance(obj, Membership):
        return {f"user:{u}" for u in _history_values(obj, "user_id")}
    if (
        isinstance(obj, User)
        and obj.id is not None
        and (deleted or inspect(obj).attrs.managed_sites.history.has_changes())
    ):
        return {f"user:{obj.id}"}
    return set()


def _collect(session: Session, _flush_context, _instances) -> None:
    found: set[str] = set()
    with session.no_autoflush:
        for obj in session.new:
            found |= _scopes_of(session, obj, deleted=False)
        for obj in session.dirty:
            if session.is_modified(obj):
                found |= _scopes_of(session, obj, deleted=False)
        for obj in session.deleted:
            found |= _scopes_of(session, obj, deleted=True)
    if found:
        session.info.setdefault(_KEY, set()).update(found)


def _write(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint; stamp at the real commit
    if session.new or session.dirty or session.deleted:
        session.flush()  # collect what the commit's own flush would otherwise bring too late
    scopes = session.info.pop(_KEY, None)
    if scopes:
        stamp = ceil_second(utcnow())
        session.add_all(FeedChange(scope=scope, changed_at=stamp) for scope in sorted(scopes))


def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)


# Every session of every writer (web, API, CLI, imports, the benchmark) records its changes.
event.listen(Session, "before_flush", _collect)
event.listen(Session, "before_commit", _write)
event.listen(Session, "after_soft_rollback", _forget)


def latest_change(scopes: Iterable[str] | BindParameter):
    """The latest change in any of the scopes, as a scalar subquery (NULL: nothing recorded).

    ``scopes`` may be an expanding bound parameter, for statements built once and reused.
    """
    return (
        select(func.max(FeedChange.changed_at))
        .where(FeedChange.scope.in_(scopes))
        .scalar_subquery()
    )
