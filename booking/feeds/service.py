"""What each feed contains, who may read it, and its HTTP validators.

A feed is described by a ``Feed``: which occurrence rows it shows (a ``Selection`` and the
values bound to it), the watermark scopes whose changes affect it (see
``booking.models.feed_changes``) and whether it shows full details. The validators (``ETag``,
``Last-Modified``) come from one statement (aggregates over the rows and the scopes'
watermark), so a poller's conditional request is answered without loading any rows; a room
feed's conditional request costs two queries in all.

Which rows a kind of feed shows is a ``Selection``: conditions written with bound parameters,
whose statements (the aggregate behind the validators and the rows for the text) are built once
per process. A request only binds its values (``Feed.values``): building and hashing the
statements anew cost a poll about as much time as running them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Column, Row, Select, and_, bindparam, case, delete, func, or_, select
from sqlalchemy.sql import visitors

from booking.domain import RoomTree
from booking.extensions import db
from booking.languages import LANGUAGES
from booking.models import (
    Booking,
    FeedToken,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    Room,
    Site,
    User,
    utcnow,
)
from booking.models.feed_changes import ALL_BOOKINGS, EVERYTHING, PUBLIC, ceil_second, latest_change
from booking.services import queries, visibility
from booking.services.errors import N_, InvalidRequest, NotFound
from booking.services.permissions import authenticated, require_user
from booking.services.visibility import get_booking

# Bump when the generated text changes shape, so pollers fetch the new form after a deploy.
FORMAT_VERSION = 1
DISTRICT_MAX = 100
TOKEN_MAX = 100
# How long a personal feed keeps cancelled and declined dates so subscribed calendars drop them.
CANCELLED_DAYS = 30

ENDED = (OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED)


def clock() -> datetime:
    """The current time; tests replace it to pin the feed window."""
    return utcnow()


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime, days_back: int, days_ahead: int) -> Window:
        """Whole UTC days, so the window (and with it the feed) changes at most once a day."""
        today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        return cls(today - timedelta(days=days_back), today + timedelta(days=days_ahead + 1))

    def values(self) -> dict[str, datetime]:
        return {"window_start": self.start, "window_end": self.end}


class Selection:
    """Which occurrence rows a kind of feed shows, and its statements, built on first use."""

    def __init__(self, *conditions: Any) -> None:
        self.conditions = conditions

    def aggregate(self, dialect: str) -> Select:
        """The validators' inputs and the scopes' watermark in one statement (bind ``scopes``
        besides the feed's values), in the shape that is cheaper on the database at hand."""
        return self.aggregate_per_booking if dialect == "postgresql" else self.aggregate_per_row

    @cached_property
    def aggregate_per_row(self) -> Select:
        """Each row joined to its booking: SQLite finds a booking by its key, which costs less
        than sorting the rows for a GROUP BY."""
        return _joined(
            select(
                func.count(Occurrence.id),
                func.max(Occurrence.id),
                func.max(Occurrence.updated_at),
                func.max(Booking.updated_at),
                latest_change(bindparam("scopes", expanding=True)),
            ),
            self.conditions,
            Booking,
        ).where(*self.conditions)

    @cached_property
    def aggregate_per_booking(self) -> Select:
        """The rows aggregated per booking first, then each booking looked up by its key:
        PostgreSQL would otherwise hash the whole booking table to join it to the rows."""
        per_booking = (
            _joined(
                select(
                    Occurrence.booking_id,
                    func.count(Occurrence.id).label("rows"),
                    func.max(Occurrence.id).label("max_id"),
                    func.max(Occurrence.updated_at).label("changed"),
                ),
                self.conditions,
            )
            .where(*self.conditions)
            .group_by(Occurrence.booking_id)
            .subquery()
        )
        booking_changed = (
            select(Booking.updated_at)
            .where(Booking.id == per_booking.c.booking_id)
            .scalar_subquery()
        )
        return select(
            func.coalesce(func.sum(per_booking.c.rows), 0),
            func.max(per_booking.c.max_id),
            func.max(per_booking.c.changed),
            func.max(booking_changed),
            latest_change(bindparam("scopes", expanding=True)),
        )

    @cached_property
    def rows(self) -> Select:
        """What the VEVENTs show, as plain columns in feed order."""
        return (
            _joined(
                select(
                    Occurrence.id,
                    Occurrence.room_id,
                    Occurrence.starts_at,
                    Occurrence.ends_at,
                    Occurrence.status,
                    Occurrence.status_reason,
                    Occurrence.sequence,
                    Occurrence.created_at,
                    # When the date or its booking last changed (one datetime less to convert).
                    case(
                        (Occurrence.updated_at > Booking.updated_at, Occurrence.updated_at),
                        else_=Booking.updated_at,
                    ).label("changed"),
                    Booking.id.label("booking_id"),
                    Booking.title,
                    Booking.description,
                    Booking.is_public,
                    Organisation.name.label("organisation"),
                    Room.name.label("room_name"),
                    Site.name.label("site_name"),
                    Site.street,
                    Site.postcode,
                    Site.city,
                    Site.timezone,
                ),
                self.conditions,
                Booking,
                Room,
                Site,
            )
            .outerjoin(Organisation, Organisation.id == Booking.organisation_id)
            .where(*self.conditions)
            .order_by(Occurrence.starts_at, Occurrence.id)
        )


def _tables(conditions: tuple[Any, ...]) -> set:
    return {
        element.table
        for condition in conditions
        for element in visitors.iterate(condition)
        if isinstance(element, Column)
    }


def _joined(statement: Select, conditions: tuple[Any, ...], *needed: type) -> Select:
    """Join from occurrence only what the conditions and the ``needed`` models refer to.

    Every occurrence has its booking, room and site (non-null foreign keys), so leaving a join
    out never changes which rows match; it spares the aggregate of a room feed, which filters on
    occurrence columns only, the joins with room and site.
    """
    tables = _tables(conditions) | {model.__table__ for model in needed}
    statement = statement.select_from(Occurrence)
    if Booking.__table__ in tables:
        statement = statement.join(Booking, Booking.id == Occurrence.booking_id)
    if Room.__table__ in tables or Site.__table__ in tables:
        statement = statement.join(Room, Room.id == Occurrence.room_id)
    if Site.__table__ in tables:
        statement = statement.join(Site, Site.id == Room.site_id)
    return statement


_APPROVED = Occurrence.status == OccurrenceStatus.APPROVED
_IN_WINDOW = (
    Occurrence.ends_at > bindparam("window_start"),
    Occurrence.starts_at < bindparam("window_end"),
)
_PUBLIC = (
    Booking.is_public.is_(True),
    _APPROVED,
    Room.active.is_(True),
    Site.active.is_(True),
    *_IN_WINDOW,
)
# Personal feeds: open dates, and cancelled or declined ones for a while (so calendars drop them).
_CURRENT = or_(
    Occurrence.status.in_((OccurrenceStatus.PENDING, OccurrenceStatus.APPROVED)),
    and_(Occurrence.status.in_(ENDED), Occurrence.updated_at >= bindparam("ended_since")),
)

ROOMS = Selection(
    Occurrence.room_id.in_(bindparam("room_ids", expanding=True)), _APPROVED, *_IN_WINDOW
)
SITE = Selection(Room.site_id == bindparam("site_id"), _APPROVED, *_IN_WINDOW)
PUBLIC_OFFERS = Selection(*_PUBLIC)
PUBLIC_OFFERS_IN_DISTRICT = Selection(*_PUBLIC, func.lower(Site.district) == bindparam("district"))
USER = Selection(visibility.PARTY_OR_MANAGER, _CURRENT, *_IN_WINDOW)
EVERY_BOOKING = Selection(_CURRENT, *_IN_WINDOW)  # administrators manage every site
ONE_BOOKING = Selection(Occurrence.booking_id == bindparam("booking_id"))
ONE_OFFER = Selection(*_PUBLIC, Occurrence.booking_id == bindparam("booking_id"))


@dataclass
class Feed:
    kind: str
    lang: str
    selection: Selection
    values: dict[str, Any]
    scopes: set[str]
    detailed: bool
    timezone: str
    params: tuple = ()
    window: Window | None = None
    # Whole days whose start may change what the feed shows (the window, the cancelled cutoff).
    day_start: datetime | None = None
    booking: Booking | None = None
    user: User | None = None
    district: str = ""
    token_id: int | None = None
    # What the calendar is named after: "room – site", the site, the booking's title.
    label: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: datetime  # whole seconds, what this state of the feed changed last

    def header_last_modified(self, request_started: datetime) -> datetime:
        """Never later than the second before the request began (see ``changes``)."""
        latest = request_started.replace(microsecond=0) - timedelta(seconds=1)
        return min(self.last_modified, latest)


def check_lang(value: str | None, default: str = "de") -> str:
    if value is None or value == "":
        return default
    if value not in LANGUAGES:
        raise InvalidRequest(
            N_("The language must be one of %(languages)s."),
            "lang",
            code="language_unknown",
            languages=", ".join(LANGUAGES),
        )
    return value


def _config_window(config) -> tuple[Window, datetime]:
    now = clock()
    window = Window.around(now, config["FEED_DAYS_BACK"], config["FEED_DAYS_AHEAD"])
    return window, window.start + timedelta(days=config["FEED_DAYS_BACK"])


# The room, its site and the site's room tree in one round trip: a room feed's first query.
_SITE_ROOMS = (
    select(
        Room.id,
        Room.parent_id,
        Room.name,
        Room.active,
        Site.id.label("site_id"),
        Site.name.label("site_name"),
        Site.active.label("site_active"),
        Site.timezone,
    )
    .join(Site, Site.id == Room.site_id)
    .where(
        Room.site_id
        == select(Room.site_id).where(Room.id == bindparam("room_id")).scalar_subquery()
    )
)


def room_feed(room_id: int, lang: str, config) -> Feed:
    # Plain rows through the session's connection: the ORM's result layer has nothing to add.
    rooms = db.session.connection().execute(_SITE_ROOMS, {"room_id": room_id}).all()
    room = next((r for r in rooms if r.id == room_id), None)
    if room is None or not room.active or not room.site_active:
        raise NotFound(N_("There is no such calendar."))
    # Booking a part blocks the whole and the whole blocks its parts: show all of them.
    related = set(RoomTree({r.id: r.parent_id for r in rooms}).related(room.id))
    window, today = _config_window(config)
    return Feed(
        kind="room",
        lang=lang,
        selection=ROOMS,
        values={"room_ids": sorted(related), **window.values()},
        scopes={EVERYTHING, f"site:{room.site_id}"},
        detailed=False,
        timezone=room.timezone,
        params=(room.id, tuple(sorted(related))),
        window=window,
        day_start=today,
        label=f"{room.name} – {room.site_name}",
    )


def site_feed(site_id: int, lang: str, config) -> Feed:
    site = db.session.get(Site, site_id)
    if site is None or not site.active:
        raise NotFound(N_("There is no such calendar."))
    window, today = _config_window(config)
    return Feed(
        kind="site",
        lang=lang,
        selection=SITE,
        values={"site_id": site.id, **window.values()},
        scopes={EVERYTHING, f"site:{site.id}"},
        detailed=False,
        timezone=site.timezone,
        params=(site.id,),
        window=window,
        day_start=today,
        label=site.name,
    )


def _known_district(text: str) -> str:
    """A district with an active site, as the sites spell it (the feed's name shows it, so it
    is never the text a link carries); else NotFound."""
    known = db.session.scalar(
        select(Site.district)
        .where(Site.active.is_(True), func.lower(Site.district) == text.lower())
        .limit(1)
    )
    if known is None:
        raise NotFound(N_("There is no such district."), code="district_unknown")
    return known


def public_feed(district: str | None, lang: str, config) -> Feed:
    district = (district or "").strip()
    if len(district) > DISTRICT_MAX:
        raise InvalidRequest(
            N_("The district may have at most %(max)d characters."),
            "district",
            code="district_too_long",
            max=DISTRICT_MAX,
        )
    if district:
        district = _known_district(district)
    window, today = _config_window(config)
    upcoming = Window(today, window.end)
    return Feed(
        kind="public",
        lang=lang,
        selection=PUBLIC_OFFERS_IN_DISTRICT if district else PUBLIC_OFFERS,
        values={"district": district.lower(), **upcoming.values()},
        scopes={EVERYTHING, PUBLIC},
        detailed=False,
        timezone=config["BOOKING_TIMEZONE"],
        params=(district.lower(),),
        window=upcoming,
        day_start=today,
        district=district,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _well_formed(token: str) -> bool:
    return 0 < len(token) <= TOKEN_MAX and all(c.isalnum() or c in "-_" for c in token)


def personal_feed(token: str, lang: str | None, config) -> Feed:
    """Everything of the user's organisations and own requests, and of the sites they manage."""
    row = None
    if _well_formed(token):
        row = db.session.scalar(select(FeedToken).where(FeedToken.token_hash == _token_hash(token)))
    user = db.session.get(User, row.user_id) if row is not None else None
    if user is None or not user.active:
        raise NotFound(N_("There is no such calendar."))
    viewer = visibility.viewer(user)
    window, today = _config_window(config)
    cutoff = today - timedelta(days=CANCELLED_DAYS)
    scopes = {EVERYTHING, f"user:{user.id}"} | {f"org:{o}" for o in viewer.organisation_ids}
    if viewer.sees_everything:  # an administrator manages every site
        scopes.add(ALL_BOOKINGS)
    else:
        scopes |= {f"site:{s}" for s in viewer.site_ids or ()}
    return Feed(
        kind="personal",
        lang=check_lang(lang, user.language if user.language in LANGUAGES else "de"),
        selection=EVERY_BOOKING if viewer.sees_everything else USER,
        values={**viewer.values(), "ended_since": cutoff, **window.values()},
        scopes=scopes,
        detailed=True,
        timezone=config["BOOKING_TIMEZONE"],
        params=(user.id, viewer.organisation_ids, viewer.site_ids),
        window=window,
        day_start=today,
        user=user,
        token_id=row.id if row is not None else None,
    )


def booking_feed(user, booking_id: int, lang: str | None) -> Feed:
    """One booking with all its dates, for the people party to it and the site's managers."""
    booking = get_booking(user, booking_id)
    default = getattr(user, "language", "de")
    return Feed(
        kind="booking",
        lang=check_lang(lang, default if default in LANGUAGES else "de"),
        selection=ONE_BOOKING,
        values={"booking_id": booking.id},
        scopes={EVERYTHING, f"booking:{booking.id}"},
        detailed=True,
        timezone=booking.room.site.timezone,
        params=(booking.id,),
        booking=booking,
        user=user,
        label=booking.title,
    )


def offer_feed(booking_id: int, lang: str, config) -> Feed:
    """One open offer's upcoming dates, for anyone: what ``/offers/<id>`` shows."""
    booking = queries.offer_booking(booking_id)
    window, today = _config_window(config)
    upcoming = Window(today, window.end)
    return Feed(
        kind="offer",
        lang=lang,
        selection=ONE_OFFER,
        values={"booking_id": booking.id, **upcoming.values()},
        scopes={EVERYTHING, PUBLIC, f"booking:{booking.id}"},
        detailed=False,
        timezone=booking.room.site.timezone,
        params=(booking.id,),
        window=upcoming,
        day_start=today,
        label=booking.title,
    )


def validators(feed: Feed, settings: tuple = ()) -> Validators:
    """ETag and Last-Modified from aggregates only: no occurrence row is loaded.

    ``settings`` are the configuration values that shape the text (base URL, TTL, names).
    """
    connection = db.session.connection()
    statement = feed.selection.aggregate(connection.dialect.name)
    count, max_id, occurrence_changed, booking_changed, marked = connection.execute(
        statement, {**feed.values, "scopes": sorted(feed.scopes)}
    ).one()
    count = int(count)  # sum() is numeric on PostgreSQL; the ETag hashes the integer
    moments = [m for m in (marked, occurrence_changed, booking_changed, feed.day_start) if m]
    last = ceil_second(max(moments)) if moments else datetime(2000, 1, 1, tzinfo=UTC)
    parts = (
        FORMAT_VERSION,
        settings,
        feed.kind,
        feed.lang,
        feed.params,
        feed.window and (feed.window.start.isoformat(), feed.window.end.isoformat()),
        feed.token_id,
        count,
        max_id,
        occurrence_changed and occurrence_changed.isoformat(),
        booking_changed and booking_changed.isoformat(),
        marked and marked.isoformat(),
        feed.day_start and feed.day_start.isoformat(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
    return Validators(etag=digest, last_modified=last)


def event_rows(feed: Feed) -> Iterable[Row]:
    """What the VEVENTs show, as plain rows in feed order (one Core select, no ORM objects).

    A result to iterate once, so rows can be written as they arrive.
    """
    return db.session.connection().execute(feed.selection.rows, feed.values)


def issue_token(user) -> str:
    """A new personal feed token; the old one (if any) stops working. Returns the plain token,
    which is never stored and can only be shown now."""
    user = require_user(user)
    db.session.execute(delete(FeedToken).where(FeedToken.user_id == user.id))
    token = secrets.token_urlsafe(32)
    db.session.add(FeedToken(user_id=user.id, token_hash=_token_hash(token)))
    db.session.flush()
    return token


def current_token(user) -> FeedToken | None:
    if authenticated(user) is None:
        return None
    return db.session.scalar(select(FeedToken).where(FeedToken.user_id == user.id))
