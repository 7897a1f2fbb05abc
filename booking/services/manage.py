"""What a facility manager sees: the open requests for the sites they manage, with conflicts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus, Room, Site
from booking.services import permissions
from booking.services.errors import N_, NotPermitted
from booking.services.room_context import load_context


@dataclass(frozen=True)
class PendingDate:
    occurrence: Occurrence
    problems: tuple[domain.Problem, ...]  # against approved bookings, closures and the rules
    competing: tuple[Occurrence, ...]  # other groups' open requests for overlapping times


@dataclass(frozen=True)
class PendingRequest:
    booking: Booking
    dates: tuple[PendingDate, ...]

    @property
    def has_problems(self) -> bool:
        return any(d.problems or d.competing for d in self.dates)


def managed_sites(user) -> list[Site]:
    site_ids = permissions.managed_site_ids(user)
    query = select(Site).order_by(Site.name)
    if site_ids is not None:
        if not site_ids:
            return []
        query = query.where(Site.id.in_(site_ids))
    return list(db.session.scalars(query))


def pending_requests(
    user, *, site_id: int | None = None, now: datetime | None = None
) -> list[PendingRequest]:
    """Bookings with upcoming pending dates at the user's sites, oldest request first."""
    now = now or datetime.now(UTC)
    site_ids = permissions.managed_site_ids(user)
    if site_ids is not None and not site_ids:
        raise NotPermitted(N_("You do not manage any site."), code="no_managed_site")
    if site_id is not None:
        if site_ids is not None and site_id not in site_ids:
            raise NotPermitted(N_("You do not manage this site."), code="site_not_managed")
        site_ids = {site_id}
    pending = (
        select(Occurrence)
        .join(Room, Room.id == Occurrence.room_id)
        .where(Occurrence.status == OccurrenceStatus.PENDING, Occurrence.ends_at > now)
        .order_by(Occurrence.booking_id, Occurrence.starts_at)
    )
    if site_ids is not None:
        pending = pending.where(Room.site_id.in_(site_ids))
    occurrences = list(db.session.scalars(pending))
    if not occurrences:
        return []
    by_booking: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        by_booking[occurrence.booking_id].append(occurrence)
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.id.in_(by_booking))
        .options(
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
            selectinload(Booking.requested_by),
        )
        .order_by(Booking.created_at, Booking.id)
    ).all()
    result = []
    for booking in bookings:
        dates = by_booking[booking.id]
        result.append(PendingRequest(booking, tuple(_assess(dates, occurrences, now))))
    return result


def _assess(
    dates: list[Occurrence], all_pending: list[Occurrence], now: datetime
) -> list[PendingDate]:
    """Problems of each pending date as if approved now, and rival requests for its time."""
    by_room: dict[int, list[Occurrence]] = defaultdict(list)
    for occurrence in dates:
        by_room[occurrence.room_id].append(occurrence)
    assessed: dict[int, PendingDate] = {}
    for room_id, occurrences in by_room.items():
        slots = [domain.Slot(o.starts_at, o.ends_at) for o in occurrences]
        context = load_context(room_id, slots)
        related_units = set(context.units)
        plans = context.check(
            slots,
            now=now,
            attendees=occurrences[0].booking.attendees,
            check_time_rules=False,
        )
        for occurrence, plan in zip(occurrences, plans, strict=True):
            rivals = tuple(
                other
                for other in all_pending
                if other.booking_id != occurrence.booking_id
                and other.starts_at < occurrence.ends_at
                and other.ends_at > occurrence.starts_at
                and not related_units.isdisjoint(context.tree.units(other.room_id))
            )
            assessed[occurrence.id] = PendingDate(occurrence, plan.problems, rivals)
    return [assessed[o.id] for o in dates]
