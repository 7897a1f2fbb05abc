"""Read-only queries for the public pages: a user's bookings and the city's open offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.extensions import db
from booking.models import Booking, Occurrence, Room, Site
from booking.services import search, visibility
from booking.services.errors import N_, NotFound
from booking.services.paging import Paged

MY_BOOKINGS_PER_PAGE = 10


@dataclass(frozen=True)
class BookingPage(Paged):
    items: list[Booking]
    page: int
    per_page: int
    total: int


@dataclass(frozen=True)
class MyBookings:
    """A user's bookings in two paged groups."""

    upcoming: BookingPage  # with a date still ahead, the soonest next date first
    earlier: BookingPage  # every date over, the newest booking first


def _booking_page(query, page: int, per_page: int) -> BookingPage:
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))  # past the end: the last page
    items = db.session.scalars(
        query.options(
            selectinload(Booking.occurrences),
            selectinload(Booking.room).selectinload(Room.site),
            selectinload(Booking.organisation),
            selectinload(Booking.requested_by),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return BookingPage(list(items), page, per_page, total)


def my_bookings(
    user,
    *,
    upcoming_page: int = 1,
    earlier_page: int = 1,
    per_page: int = MY_BOOKINGS_PER_PAGE,
    now: datetime | None = None,
) -> MyBookings:
    """The bookings a user asked for or that one of their organisations holds (the user's own
    side of ``visibility``; their sites' bookings are the manager's pages), split into those
    with dates ahead and the rest, one page of each."""
    now = now or datetime.now(UTC)
    viewer = visibility.viewer(user)
    next_start = (
        select(Occurrence.booking_id, func.min(Occurrence.starts_at).label("starts_at"))
        .where(Occurrence.ends_at > now)
        .group_by(Occurrence.booking_id)
        .subquery()
    )
    upcoming = (
        select(Booking)
        .join(next_start, next_start.c.booking_id == Booking.id)
        .where(viewer.party())
        .order_by(next_start.c.starts_at, Booking.id)
    )
    ahead = exists().where(Occurrence.booking_id == Booking.id, Occurrence.ends_at > now)
    earlier = (
        select(Booking)
        .where(viewer.party(), ~ahead)
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    )
    return MyBookings(
        _booking_page(upcoming, upcoming_page, per_page),
        _booking_page(earlier, earlier_page, per_page),
    )


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
    q: str = "",
    accessible: bool = False,
    offer: search.OfferFilter | None = None,
    page: int = 1,
    per_page: int = 20,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> OfferPage:
    """Upcoming approved dates of public bookings in active rooms, soonest first.

    ``date_from``/``date_to`` are inclusive local dates in ``zone`` (the city's zone); ``q``
    the words an offer's title or description must hold; ``accessible``: step-free rooms only;
    ``offer``: what the offer is (category, audience, language, free of charge, drop in).
    """
    words = search.offer_words(q)
    zone = zone or ZoneInfo("Europe/Berlin")
    lower = now or datetime.now(UTC)
    if date_from is not None:
        lower = max(lower, domain.from_local(datetime.combine(date_from, time(0)), zone))
    upper = None
    if date_to is not None:
        upper = domain.from_local(datetime.combine(date_to + timedelta(days=1), time(0)), zone)
    stmt = search.upcoming_public(
        district=district or None,
        start=lower,
        end=upper,
        words=words,
        accessible=accessible,
        offer=offer,
    )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))  # past the end: the last page
    items = db.session.scalars(
        stmt.options(
            selectinload(Occurrence.booking).selectinload(Booking.organisation),
            selectinload(Occurrence.room).selectinload(Room.site),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return OfferPage(list(items), page, per_page, total)


OFFER_DATES_SHOWN = 50


@dataclass(frozen=True)
class Offer:
    """One open offer: a public booking, its next approved dates and how many are coming."""

    booking: Booking
    dates: list[Occurrence]
    upcoming: int


def offer_booking(booking_id: int, *, now: datetime | None = None) -> Booking:
    """The public booking behind an open offer's page and calendar: NotFound unless it has an
    approved date still to come in an active room of an active site (the rule of ``/offers``;
    a request not yet approved, or an offer that is over, shows nothing)."""
    offered = (
        search.upcoming_public(start=now)
        .where(Occurrence.booking_id == booking_id)
        .with_only_columns(Occurrence.booking_id)
        .order_by(None)
        .correlate(None)  # the rule's own join of booking stays inside
    )
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.id.in_(offered))
        .options(
            selectinload(Booking.organisation),
            selectinload(Booking.room).selectinload(Room.site),
        )
    )
    if booking is None:
        raise NotFound(N_("There is no such open offer."))
    return booking


def open_offer(booking_id: int, *, now: datetime | None = None) -> Offer:
    """An open offer as its shareable page shows it: the booking, its next approved dates, each
    with its room (a date may have been moved to another room), and how many are coming."""
    booking = offer_booking(booking_id, now=now)
    upcoming = search.upcoming_public(start=now).where(Occurrence.booking_id == booking.id)
    total = db.session.scalar(select(func.count()).select_from(upcoming.subquery())) or 0
    dates = db.session.scalars(
        upcoming.limit(OFFER_DATES_SHOWN).options(
            selectinload(Occurrence.room).selectinload(Room.site)
        )
    ).all()
    return Offer(booking, list(dates), total)


def districts() -> list[str]:
    """The districts that have an active site, for filters."""
    return list(
        db.session.scalars(
            select(Site.district).where(Site.active.is_(True)).distinct().order_by(Site.district)
        )
    )
