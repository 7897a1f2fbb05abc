"""Read-only queries for the public pages: a user's bookings and the city's open offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.extensions import db
from booking.models import Booking, Occurrence, Room, Site
from booking.services import search, visibility


def bookings_for_user(user) -> list[Booking]:
    """The bookings a user asked for or that one of their organisations holds, newest first
    (the user's own side of ``visibility``; their sites' bookings are the manager's pages)."""
    viewer = visibility.viewer(user)
    if viewer.user_id is None:
        return []
    query = (
        select(Booking)
        .where(viewer.party())
        .options(
            selectinload(Booking.occurrences),
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
            selectinload(Booking.requested_by),
        )
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    )
    return list(db.session.scalars(query))


class Paged:
    """What the pager needs of a page with ``page``, ``per_page`` and ``total``."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class OfferPage(Paged):
    items: list[Occurrence]
    page: int
    per_page: int
    total: int


def open_offers(
    *,
    district: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 20,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> OfferPage:
    """Upcoming approved dates of public bookings in active rooms, soonest first.

    ``date_from``/``date_to`` are inclusive local dates in ``zone`` (the city's zone).
    """
    zone = zone or ZoneInfo("Europe/Berlin")
    lower = now or datetime.now(UTC)
    if date_from is not None:
        lower = max(lower, domain.from_local(datetime.combine(date_from, time(0)), zone))
    upper = None
    if date_to is not None:
        upper = domain.from_local(datetime.combine(date_to + timedelta(days=1), time(0)), zone)
    stmt = search.upcoming_public(district=district or None, start=lower, end=upper)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    items = db.session.scalars(
        stmt.options(
            selectinload(Occurrence.booking).selectinload(Booking.organisation),
            selectinload(Occurrence.room).selectinload(Room.site),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return OfferPage(list(items), page, per_page, total)


def districts() -> list[str]:
    """The districts that have an active site, for filters."""
    return list(
        db.session.scalars(
            select(Site.district).where(Site.active.is_(True)).distinct().order_by(Site.district)
        )
    )
