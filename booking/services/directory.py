"""The public directory of organisations: who does what, where (#15).

An organisation appears only when one of its admins lists it (``Organisation.listed``, opt-in).
Anyone may read what it says about itself (name, kind, district, description, web and contact
address) and its upcoming open offers: approved dates of its *public* bookings in active rooms,
the same rule as ``/offers`` (``search.upcoming_public``). Members, private bookings, requests and
anything else stay out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from booking.extensions import db
from booking.models import Booking, Occurrence, Organisation, OrganisationKind, Room
from booking.services.errors import N_, InvalidRequest, NotFound
from booking.services.paging import Paged
from booking.services.search import upcoming_public

PER_PAGE = 20
OFFERS_IN_LIST = 3  # the next dates of each organisation in the list
OFFERS_ON_PAGE = 50  # on its own page
QUERY_MAX = 100


@dataclass(frozen=True)
class Listing:
    """A listed organisation with its next public dates (soonest first) and how many there are."""

    organisation: Organisation
    offers: list[Occurrence]
    upcoming: int


@dataclass(frozen=True)
class ListingPage(Paged):
    items: list[Listing]
    page: int
    per_page: int
    total: int


def _check_filters(q: str, kind: str | None) -> tuple[str, OrganisationKind | None]:
    text = (q or "").strip()
    if len(text) > QUERY_MAX:
        raise InvalidRequest(N_("The search text is too long."), "q", code="query_too_long")
    if not kind:
        return text, None
    try:
        return text, OrganisationKind(kind)
    except ValueError:
        raise InvalidRequest(N_("Please choose a kind from the list."), "kind") from None


def directory(
    *,
    q: str = "",
    district: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> ListingPage:
    """The listed organisations by name, filtered by words in their name or description (each
    word somewhere in either, letter case aside), their district and kind; each with its next
    ``OFFERS_IN_LIST`` public dates. The same few statements whatever the page size: the count,
    the page, the dates of all its organisations (with their bookings, rooms and sites)."""
    text, kind_value = _check_filters(q, kind)
    where = [Organisation.listed]
    for word in re.findall(r"\w+", text.lower()):  # every word, in the name or the description
        where.append(
            or_(
                func.lower(Organisation.name).contains(word, autoescape=True),
                func.lower(Organisation.description).contains(word, autoescape=True),
            )
        )
    if district:
        where.append(Organisation.district == district)
    if kind_value is not None:
        where.append(Organisation.kind == kind_value)
    total = db.session.scalar(select(func.count(Organisation.id)).where(*where)) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))  # past the end: the last page
    organisations = db.session.scalars(
        select(Organisation)
        .where(*where)
        .order_by(func.lower(Organisation.name), Organisation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    offers = _next_offers([o.id for o in organisations], OFFERS_IN_LIST, now)
    items = [Listing(o, *offers.get(o.id, ([], 0))) for o in organisations]
    return ListingPage(items, page, per_page, total)


def listing(organisation_id: int, *, now: datetime | None = None) -> Listing:
    """One listed organisation with its next ``OFFERS_ON_PAGE`` public dates; NotFound for an
    organisation that is not listed (or does not exist: the answer does not tell which)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not organisation.listed:
        raise NotFound(N_("There is no such organisation in the directory."))
    offers, upcoming = _next_offers([organisation.id], OFFERS_ON_PAGE, now).get(
        organisation.id, ([], 0)
    )
    return Listing(organisation, offers, upcoming)


def districts() -> list[str]:
    """The districts of the listed organisations, for the filter."""
    return list(
        db.session.scalars(
            select(Organisation.district)
            .where(Organisation.listed, Organisation.district != "")
            .distinct()
            .order_by(Organisation.district)
        )
    )


def _next_offers(
    organisation_ids: list[int], limit: int, now: datetime | None
) -> dict[int, tuple[list[Occurrence], int]]:
    """Per organisation: its next ``limit`` public dates and the number of all its upcoming
    ones, in one statement (numbered per organisation by a window function)."""
    if not organisation_ids:
        return {}
    order = (Occurrence.starts_at, Occurrence.id)
    ranked = (
        upcoming_public(start=now or datetime.now(UTC))
        .add_columns(
            Booking.organisation_id.label("organisation_id"),
            func.row_number()
            .over(partition_by=Booking.organisation_id, order_by=order)
            .label("position"),
            func.count().over(partition_by=Booking.organisation_id).label("upcoming"),
        )
        .where(Booking.organisation_id.in_(organisation_ids))
        .order_by(None)
        .subquery()
    )
    dated = aliased(Occurrence, ranked)
    rows = db.session.execute(
        select(dated, ranked.c.organisation_id, ranked.c.upcoming)
        .where(ranked.c.position <= limit)
        .order_by(ranked.c.organisation_id, ranked.c.position)
        .options(
            selectinload(dated.booking),
            selectinload(dated.room).selectinload(Room.site),
        )
    ).all()
    found: dict[int, tuple[list[Occurrence], int]] = {}
    for occurrence, organisation_id, upcoming in rows:
        found.setdefault(organisation_id, ([], upcoming))[0].append(occurrence)
    return found
