"""What each feed contains, who may read it, and its HTTP validators.

A feed is described by a ``Feed``: the SQL conditions that select its occurrence rows, the
watermark scopes whose changes affect it (see ``booking.feeds.changes``) and whether it shows
full details. The validators (``ETag``, ``Last-Modified``) come from one aggregate query and
one watermark query, so a poller's conditional request is answered without loading any rows.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import contains_eager

from booking.extensions import db
from booking.feeds.changes import ALL_BOOKINGS, EVERYTHING, PUBLIC, ceil_second, watermark
from booking.models import (
    Booking,
    FeedToken,
    Occurrence,
    OccurrenceStatus,
    Room,
    Site,
    User,
    utcnow,
)
from booking.services import permissions
from booking.services.bookings import get_booking
from booking.services.errors import InvalidRequest, NotFound, NotPermitted
from booking.services.rooms import RoomTree

# Bump when the generated text changes shape, so pollers fetch the new form after a deploy.
FORMAT_VERSION = 1
LANGUAGES = ("de", "en")
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

    def condition(self) -> ColumnElement[bool]:
        return and_(Occurrence.ends_at > self.start, Occurrence.starts_at < self.end)


@dataclass
class Feed:
    kind: str
    lang: str
    conditions: list[Any]
    scopes: set[str]
    detailed: bool
    timezone: str
    params: tuple = ()
    window: Window | None = None
    # Whole days whose start may change what the feed shows (the window, the cancelled cutoff).
    day_start: datetime | None = None
    room: Room | None = None
    site: Site | None = None
    booking: Booking | None = None
    user: User | None = None
    district: str = ""
    token_id: int | None = None
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
        raise InvalidRequest("The language must be 'de' or 'en'.", "lang")
    return value


def _config_window(config) -> tuple[Window, datetime]:
    now = clock()
    window = Window.around(now, config["FEED_DAYS_BACK"], config["FEED_DAYS_AHEAD"])
    return window, window.start + timedelta(days=config["FEED_DAYS_BACK"])


def room_feed(room_id: int, lang: str, config) -> Feed:
    room = db.session.get(Room, room_id)
    if room is None or not room.active or not room.site.active:
        raise NotFound("There is no such calendar.")
    tree = RoomTree.for_site(room.site_id)
    # Booking a part blocks the whole and the whole blocks its parts: show all of them.
    related = {room.id, *tree.descendants(room.id), *tree.ancestors(room.id)}
    window, today = _config_window(config)
    return Feed(
        kind="room",
        lang=lang,
        conditions=[
            Occurrence.room_id.in_(sorted(related)),
            Occurrence.status == OccurrenceStatus.APPROVED,
            window.condition(),
        ],
        scopes={EVERYTHING, f"site:{room.site_id}"},
        detailed=False,
        timezone=room.site.timezone,
        params=(room.id, tuple(sorted(related))),
        window=window,
        day_start=today,
        room=room,
        site=room.site,
    )


def site_feed(site_id: int, lang: str, config) -> Feed:
    site = db.session.get(Site, site_id)
    if site is None or not site.active:
        raise NotFound("There is no such calendar.")
    window, today = _config_window(config)
    return Feed(
        kind="site",
        lang=lang,
        conditions=[
            Room.site_id == site.id,
            Occurrence.status == OccurrenceStatus.APPROVED,
            window.condition(),
        ],
        scopes={EVERYTHING, f"site:{site.id}"},
        detailed=False,
        timezone=site.timezone,
        params=(site.id,),
        window=window,
        day_start=today,
        site=site,
    )


def public_feed(district: str | None, lang: str, config) -> Feed:
    district = (district or "").strip()
    if len(district) > DISTRICT_MAX:
        raise InvalidRequest(
            f"The district may have at most {DISTRICT_MAX} characters.", "district"
        )
    window, today = _config_window(config)
    upcoming = Window(today, window.end)
    conditions = [
        Booking.is_public.is_(True),
        Occurrence.status == OccurrenceStatus.APPROVED,
        Room.active.is_(True),
        Site.active.is_(True),
        upcoming.condition(),
    ]
    if district:
        conditions.append(func.lower(Site.district) == district.lower())
    return Feed(
        kind="public",
        lang=lang,
        conditions=conditions,
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
        raise NotFound("There is no such calendar.")
    organisation_ids = sorted(permissions.organisation_ids(user))
    managed = permissions.managed_site_ids(user)
    window, today = _config_window(config)
    cutoff = today - timedelta(days=CANCELLED_DAYS)
    scopes = {EVERYTHING, f"user:{user.id}"} | {f"org:{o}" for o in organisation_ids}
    mine = [Booking.requested_by_id == user.id]
    if organisation_ids:
        mine.append(Booking.organisation_id.in_(organisation_ids))
    if managed is None:  # an administrator manages every site
        mine = [Occurrence.id.is_not(None)]
        scopes.add(ALL_BOOKINGS)
    elif managed:
        mine.append(Room.site_id.in_(sorted(managed)))
        scopes |= {f"site:{s}" for s in managed}
    return Feed(
        kind="personal",
        lang=check_lang(lang, user.language if user.language in LANGUAGES else "de"),
        conditions=[
            or_(*mine),
            or_(
                Occurrence.status.in_((OccurrenceStatus.PENDING, OccurrenceStatus.APPROVED)),
                and_(Occurrence.status.in_(ENDED), Occurrence.updated_at >= cutoff),
            ),
            window.condition(),
        ],
        scopes=scopes,
        detailed=True,
        timezone=config["BOOKING_TIMEZONE"],
        params=(
            user.id,
            tuple(organisation_ids),
            None if managed is None else tuple(sorted(managed)),
        ),
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
        conditions=[Occurrence.booking_id == booking.id],
        scopes={EVERYTHING, f"booking:{booking.id}"},
        detailed=True,
        timezone=booking.room.site.timezone,
        params=(booking.id,),
        booking=booking,
        user=user,
    )


def _joined(statement):
    return statement.join(Occurrence.booking).join(Occurrence.room).join(Room.site)


def validators(feed: Feed, settings: tuple = ()) -> Validators:
    """ETag and Last-Modified from aggregates only: no occurrence row is loaded.

    ``settings`` are the configuration values that shape the text (base URL, TTL, names).
    """
    count, max_id, occurrence_changed, booking_changed = db.session.execute(
        _joined(
            select(
                func.count(Occurrence.id),
                func.max(Occurrence.id),
                func.max(Occurrence.updated_at),
                func.max(Booking.updated_at),
            ).select_from(Occurrence)
        ).where(*feed.conditions)
    ).one()
    marked = watermark(db.session, feed.scopes)
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


def occurrences(feed: Feed) -> list[Occurrence]:
    statement = (
        _joined(select(Occurrence))
        .where(*feed.conditions)
        .options(
            contains_eager(Occurrence.booking).joinedload(Booking.organisation),
            contains_eager(Occurrence.room).contains_eager(Room.site),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
    )
    return list(db.session.scalars(statement).unique())


def _require_login(user) -> User:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        raise NotPermitted("You need to log in to do this.")
    return user


def issue_token(user) -> str:
    """A new personal feed token; the old one (if any) stops working. Returns the plain token,
    which is never stored and can only be shown now."""
    user = _require_login(user)
    db.session.execute(delete(FeedToken).where(FeedToken.user_id == user.id))
    token = secrets.token_urlsafe(32)
    db.session.add(FeedToken(user_id=user.id, token_hash=_token_hash(token)))
    db.session.flush()
    return token


def current_token(user) -> FeedToken | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(FeedToken).where(FeedToken.user_id == user.id))
