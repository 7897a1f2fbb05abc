"""The API v1 routes. Thin: parse (spec.py), call a service, serialise (schemas.py)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request, url_for
from flask_babel import gettext
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from booking import domain
from booking.api import bp, spec
from booking.api.schemas import (
    MAX_ID,
    ApproveIn,
    ApproveOut,
    AvailabilityOut,
    AvailabilityQuery,
    BookingIn,
    BookingLinks,
    BookingOut,
    BookingsQuery,
    BusyInterval,
    CancelIn,
    DeclinedRivalOut,
    DeclineIn,
    Interval,
    OccurrenceOut,
    OfferOut,
    OffersQuery,
    OpeningExceptionOut,
    OpeningExceptionsIn,
    OpeningExceptionsOut,
    OpeningHoursIn,
    OpeningHoursOut,
    OpeningWindowModel,
    OpeningWindowOut,
    OrganisationOut,
    Page,
    PageQuery,
    RoomIn,
    RoomLinks,
    RoomOut,
    RoomPatch,
    RoomsQuery,
    SiteAddress,
    SiteIn,
    SiteLinks,
    SiteOut,
    SitePatch,
    clock,
)
from booking.api.spec import ApiValidationError, Header, Refusal, operation, serialise
from booking.extensions import db
from booking.links import base_url
from booking.models import Booking, Occurrence, Organisation, Room, Site, User
from booking.services import bookings as booking_service
from booking.services import catalogue, places, room_context, search, visibility
from booking.services.decisions import RIVAL_REASON
from booking.services.errors import N_, InvalidRequest, NotFound

# --- helpers ----------------------------------------------------------------------------------

# 422s for input the schema allows (the document lists them under each operation's 422).
END_AFTER_START = Refusal("end", "end_before_start", "The end must be after the start.")
UNKNOWN_DATES = Refusal(
    "occurrence_ids", "unknown_dates", "Some of the chosen dates do not belong to this booking."
)
SITE_REFUSALS = (
    Refusal("name", "name_missing", "A name of spaces only."),
    Refusal("name", "name_taken", "A site with this name exists already."),
    Refusal("district", "district_missing", "A district of spaces only."),
    Refusal("timezone", "timezone_unknown", "Not an IANA time zone."),
    Refusal("contact_email", "email_invalid", "This e-mail address is not valid."),
    Refusal("description", "control_characters", "Control characters besides line breaks."),
)
ROOM_REFUSALS = (
    Refusal("name", "name_missing", "A name of spaces only."),
    Refusal("name", "name_taken", "The site has a room with this name already."),
    Refusal("parent_id", "parent_unknown", "There is no such room."),
    Refusal("parent_id", "parent_other_site", "The room is of another site."),
    Refusal("parent_id", "parent_cycle", "The room would become a part of itself."),
    Refusal("max_duration_minutes", "durations_reversed", "Shorter than the shortest date."),
    Refusal("features", "feature_unknown", "A key not (or no longer) in the equipment list."),
    Refusal("description", "control_characters", "Control characters besides line breaks."),
    Refusal("house_rules", "control_characters", "Control characters besides line breaks."),
)
ROOM_NOT_AT_SITE = Refusal("room_id", "room_not_at_site", "This site has no such room.")


def _api_url(endpoint: str, **values: Any) -> str:
    return url_for(f"api.{endpoint}", _external=True, **values)


def _city_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    """An ISO time without offset is local wall time in ``zone``."""
    return domain.from_local(value, zone) if value.tzinfo is None else value.astimezone(UTC)


def _encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    # The schema allows an empty cursor, and a client that fills in `cursor=` before it has
    # a `next` link means the first page.
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not (
        isinstance(key, list)
        and len(key) == size
        and type(key[-1]) is int
        and 0 <= key[-1] <= MAX_ID
    ):
        raise ApiValidationError(
            [{"field": "cursor", "message": "This cursor is not valid.", "type": "value_error"}]
        )
    return key


def _next_url(key: Sequence[Any]) -> str:
    args = {k: request.args.getlist(k)[-1] for k in request.args if k != "cursor"}
    return _api_url(
        request.endpoint.removeprefix("api."),
        **request.view_args,
        **args,
        cursor=_encode_cursor(key),
    )


_ANY_PAGE = Page[Any]  # parametrised once: pydantic's lookup of Page[Any] costs per call


def _page(items: list[Any], limit: int, key: Callable[[Any], Sequence[Any]], out: Callable):
    """``items`` holds up to limit + 1 rows; the extra one only tells that there is more."""
    more = len(items) > limit
    items = items[:limit]
    return _ANY_PAGE(
        items=[out(i) for i in items],
        limit=limit,
        next=_next_url(key(items[-1])) if more and items else None,
    )


def _by_id(stmt: Select, column, query: PageQuery) -> list[Any]:
    after = _decode_cursor(query.cursor, 1)
    if after is not None:
        stmt = stmt.where(column > after[0])
    return list(db.session.scalars(stmt.order_by(column).limit(query.limit + 1)))


# --- serialisers ------------------------------------------------------------------------------


def site_out(site: Site) -> SiteOut:
    return SiteOut(
        id=site.id,
        name=site.name,
        kind=site.kind,
        district=site.district,
        address=SiteAddress(street=site.street, postcode=site.postcode, city=site.city),
        timezone=site.timezone,
        description=site.description,
        contact_name=site.contact_name,
        contact_phone=site.contact_phone,
        contact_email=site.contact_email,
        active=site.active,
        opening_hours=[
            OpeningWindowOut(weekday=w.weekday, opens=clock(w.opens), closes=clock(w.closes))
            for w in site.opening_windows
        ],
        links=SiteLinks(
            self=_api_url("get_site", site_id=site.id),
            rooms=_api_url("list_rooms", site_id=site.id),
        ),
    )


def _part_ids(rooms: Sequence[Room]) -> dict[int, list[int]]:
    """The active parts of each of ``rooms``, in one query (a list page has up to 200 rooms)."""
    found: dict[int, list[int]] = {r.id: [] for r in rooms}
    if rooms:
        rows = db.session.execute(
            select(Room.parent_id, Room.id)
            .where(Room.parent_id.in_(list(found)), Room.active)
            .order_by(Room.id)
        )
        for parent_id, room_id in rows:
            found[parent_id].append(room_id)
    return found


def _rooms_url() -> str:
    """The API's room list URL (``…/api/v1/rooms``), once per request: a room's own links are
    that plus its id (``/rooms/<id>``, ``/rooms/<id>/availability``), written without building
    each through the URL map (a search answer lists up to 200 rooms)."""
    if "api_rooms_url" not in g:
        g.api_rooms_url = _api_url("list_rooms")
    return g.api_rooms_url


def room_out(room: Room, part_ids: list[int] | None = None) -> RoomOut:
    """``part_ids``: the room's active parts if already loaded (see ``_part_ids``)."""
    base, rooms_url = base_url(), _rooms_url()
    if part_ids is None:
        part_ids = _part_ids([room])[room.id]
    return RoomOut(
        id=room.id,
        site_id=room.site_id,
        parent_id=room.parent_id,
        part_ids=part_ids,
        name=room.name,
        capacity=room.capacity,
        area_m2=room.area_m2,
        description=room.description,
        features=room.features,
        step_free=room.step_free,
        accessible_toilet=room.accessible_toilet,
        hearing_loop=room.hearing_loop,
        approval_policy=room.approval_policy,
        house_rules=room.house_rules,
        min_lead_minutes=room.min_lead_minutes,
        max_advance_days=room.max_advance_days,
        min_duration_minutes=room.min_duration_minutes,
        max_duration_minutes=room.max_duration_minutes,
        buffer_before_minutes=room.buffer_before_minutes,
        buffer_after_minutes=room.buffer_after_minutes,
        active=room.active,
        links=RoomLinks(
            self=f"{rooms_url}/{room.id}",
            web=f"{base}/rooms/{room.id}",
            feed=f"{base}/ical/rooms/{room.id}.ics",
            availability=f"{rooms_url}/{room.id}/availability",
        ),
    )


def organisation_out(organisation: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=organisation.id,
        name=organisation.name,
        kind=organisation.kind,
        district=organisation.district,
        description=organisation.description,
        website=organisation.website,
        email=organisation.email,
    )


def booking_out(booking: Booking) -> BookingOut:
    def local(occurrence: Occurrence, value: datetime) -> datetime:
        return value.astimezone(ZoneInfo(occurrence.room.site.timezone))

    return BookingOut(
        id=booking.id,
        room_id=booking.room_id,
        site_id=booking.room.site_id,
        organisation_id=booking.organisation_id,
        title=booking.title,
        description=booking.description,
        attendees=booking.attendees,
        public=booking.is_public,
        rrule=booking.rrule,
        created_at=booking.created_at,
        occurrences=[
            OccurrenceOut(
                id=o.id,
                room_id=o.room_id,
                start=local(o, o.starts_at),
                end=local(o, o.ends_at),
                status=o.status,
                status_reason=o.status_reason,
            )
            for o in sorted(booking.occurrences, key=lambda o: (o.starts_at, o.id))
        ],
        links=BookingLinks(
            self=_api_url("get_booking", booking_id=booking.id),
            room=_api_url("get_room", room_id=booking.room_id),
        ),
    )


def offer_out(occurrence: Occurrence) -> OfferOut:
    booking, room = occurrence.booking, occurrence.room
    zone = ZoneInfo(room.site.timezone)
    return OfferOut(
        occurrence_id=occurrence.id,
        booking_id=booking.id,
        title=booking.title,
        description=booking.description,
        start=occurrence.starts_at.astimezone(zone),
        end=occurrence.ends_at.astimezone(zone),
        room_id=room.id,
        room_name=room.name,
        site_id=room.site_id,
        site_name=room.site.name,
        district=room.site.district,
        organisation=booking.organisation.name if booking.organisation else None,
        category=booking.offer_category,
        audience=booking.offer_audience,
        languages=list(booking.offer_languages or []),
        free_of_charge=booking.free_of_charge,
        drop_in=booking.drop_in,
        accessible=room.step_free,
        url=f"{base_url()}/offers/{booking.id}",
    )


# --- public data ------------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/sites",
    summary="List sites",
    tag="Places",
    response=Page[SiteOut],
    query=PageQuery,
    public=True,
)
def list_sites(user: User | None, query: PageQuery):
    """Active sites (schools, the library, district houses …) ordered by id."""
    stmt = select(Site).where(Site.active).options(selectinload(Site.opening_windows))
    rows = _by_id(stmt, Site.id, query)
    return _page(rows, query.limit, lambda s: (s.id,), site_out)


@operation(
    bp,
    "GET",
    "/sites/<int:site_id>",
    summary="Get a site",
    tag="Places",
    response=SiteOut,
    public=True,
)
def get_site(user: User | None, site_id: int):
    site = db.session.get(Site, site_id)
    if site is None or not site.active:
        raise NotFound(N_("There is no such site."))
    return site_out(site)


@operation(
    bp,
    "GET",
    "/rooms",
    summary="List and search rooms",
    tag="Places",
    response=Page[RoomOut],
    query=RoomsQuery,
    public=True,
    refusals=(
        Refusal("features", "invalid", "An unknown or deactivated feature key."),
        Refusal("free_start", "time_incomplete", "Please give both free_start and free_end."),
        Refusal("free_end", "time_incomplete", "Please give both free_start and free_end."),
        Refusal("free_end", "end_before_start", "The end must be after the start."),
        Refusal("free_end", "search_too_long", "Search at most 14 days at once."),
    ),
)
def list_rooms(user: User | None, query: RoomsQuery):
    """Active rooms ordered by id. All filters combine. With `free_start` and `free_end` only
    rooms free for the whole interval within opening hours are listed (times without an offset
    are read in the city's zone, Europe/Berlin)."""
    if (query.free_start is None) != (query.free_end is None):
        missing = "free_end" if query.free_end is None else "free_start"
        raise InvalidRequest(
            N_("Please give both free_start and free_end."), missing, code="time_incomplete"
        )
    room_query = search.RoomQuery(
        start=query.free_start,
        end=query.free_end,
        min_capacity=query.min_capacity,
        features=query.feature_list(),
        district=query.district,
        site_id=query.site_id,
        step_free=bool(query.step_free),
    )
    found = catalogue.current()
    try:
        ids = search.room_ids(room_query, zone=_city_zone(), found=found)
    except InvalidRequest as exc:
        if exc.field in ("start", "end"):
            raise InvalidRequest(
                exc.message, f"free_{exc.field}", code=exc.code, **exc.params
            ) from None
        raise
    after = _decode_cursor(query.cursor, 1)
    ids = [i for i in ids if after is None or i > after[0]][: query.limit + 1]
    return _page(_room_outs(ids, found), query.limit, lambda r: (r.id,), lambda r: r)


# The API's rooms as served, per process, for the catalogue version they were made from: a room
# changes a few times a year, a search lists up to 200 rooms many times a second. Every field of
# ``RoomOut`` comes from tables whose changes give a new catalogue version (rooms, sites, their
# features), so a cached answer is never stale; the links depend on the host asked as well.
_room_out_cache: dict[tuple, dict[int, RoomOut]] = {}


def _room_outs(ids: Sequence[int], found: catalogue.Catalogue) -> list[RoomOut]:
    """``room_out`` of each room in ``ids`` (in that order), from the cache where it can."""
    if found.version is None:  # a database without the version row: nothing to key a cache by
        return _load_room_outs(ids)
    key = (db.engine.url.render_as_string(), found.version, _rooms_url(), base_url())
    cached = _room_out_cache.get(key)
    if cached is None:
        _room_out_cache.clear()  # only the current version is worth keeping
        cached = _room_out_cache[key] = {}
    missing = [i for i in ids if i not in cached]
    if missing:
        for out in _load_room_outs(missing):
            cached[out.id] = out
    # A room deleted since the search read the catalogue (another commit in between) is left out.
    return [cached[i] for i in ids if i in cached]


def _load_room_outs(ids: Sequence[int]) -> list[RoomOut]:
    rooms = db.session.scalars(
        select(Room).where(Room.id.in_(ids)).options(selectinload(Room.feature_rows))
    ).all()
    parts = _part_ids(rooms)
    by_id = {room.id: room_out(room, parts[room.id]) for room in rooms}
    return [by_id[i] for i in ids if i in by_id]


@operation(
    bp,
    "GET",
    "/rooms/<int:room_id>",
    summary="Get a room",
    tag="Places",
    response=RoomOut,
    public=True,
)
def get_room(user: User | None, room_id: int):
    return room_out(room_context.active_room(room_id))


@operation(
    bp,
    "GET",
    "/rooms/<int:room_id>/availability",
    summary="Busy and free times",
    tag="Places",
    response=AvailabilityOut,
    query=AvailabilityQuery,
    public=True,
    refusals=(
        END_AFTER_START,
        Refusal("end", "window_too_long", "Ask for at most 62 days at once."),
    ),
)
def room_availability(user: User | None, room_id: int, query: AvailabilityQuery):
    """Busy intervals (private bookings without any detail) and free intervals within opening
    hours, for a window of at most 62 days. Times without an offset are read in the site's zone;
    answers use the site's zone."""
    room = room_context.active_room(room_id)
    zone = ZoneInfo(room.site.timezone)
    start, end = _aware(query.start, zone), _aware(query.end, zone)
    if end <= start:
        raise InvalidRequest(N_("The end must be after the start."), "end", code="end_before_start")
    availability = search.room_availability(room, domain.Slot(start, end))
    return AvailabilityOut(
        room_id=room.id,
        start=start.astimezone(zone),
        end=end.astimezone(zone),
        timezone=room.site.timezone,
        busy=[
            BusyInterval(
                start=b.slot.starts_at.astimezone(zone),
                end=b.slot.ends_at.astimezone(zone),
                public=b.is_public,
                title=b.title,
                organisation=b.organisation,
            )
            for b in availability.busy
        ],
        free=[
            Interval(start=s.starts_at.astimezone(zone), end=s.ends_at.astimezone(zone))
            for s in availability.free
        ],
    )


@operation(
    bp,
    "GET",
    "/organisations",
    summary="Directory of organisations",
    tag="Organisations",
    response=Page[OrganisationOut],
    query=PageQuery,
    public=True,
)
def list_organisations(user: User | None, query: PageQuery):
    """Associations, initiatives and others active in the city that chose to be listed in the
    public directory (`/directory`), ordered by id, with what they say about themselves."""
    rows = _by_id(select(Organisation).where(Organisation.listed), Organisation.id, query)
    return _page(rows, query.limit, lambda o: (o.id,), organisation_out)


@operation(
    bp,
    "GET",
    "/open-offers",
    summary="Upcoming open offers",
    tag="Open offers",
    response=Page[OfferOut],
    query=OffersQuery,
    public=True,
)
def list_open_offers(user: User | None, query: OffersQuery):
    """Upcoming approved dates of public bookings, soonest first (ties by id)."""
    words = search.offer_words(query.q)
    stmt = search.upcoming_public(
        district=query.district,
        words=words,
        accessible=query.accessible,
        offer=search.OfferFilter(
            category=query.category.value if query.category else None,
            audience=query.audience.value if query.audience else None,
            language=query.language,
            free=query.free,
            drop_in=query.drop_in,
        ),
    ).options(
        selectinload(Occurrence.booking).selectinload(Booking.organisation),
        selectinload(Occurrence.room).selectinload(Room.site),
    )
    after = _decode_cursor(query.cursor, 2)
    if after is not None:
        try:
            starts = datetime.fromisoformat(after[0])
        except (TypeError, ValueError):
            raise ApiValidationError(
                [{"field": "cursor", "message": "This cursor is not valid.", "type": "value_error"}]
            ) from None
        if starts.tzinfo is None:
            starts = starts.replace(tzinfo=UTC)
        stmt = stmt.where(
            or_(
                Occurrence.starts_at > starts,
                and_(Occurrence.starts_at == starts, Occurrence.id > after[1]),
            )
        )
    rows = list(db.session.scalars(stmt.limit(query.limit + 1)))
    return _page(
        rows,
        query.limit,
        lambda o: (o.starts_at.astimezone(UTC).isoformat(), o.id),
        offer_out,
    )


# --- bookings ---------------------------------------------------------------------------------

_BOOKING_LOAD = (
    selectinload(Booking.occurrences).selectinload(Occurrence.room).selectinload(Room.site),
    selectinload(Booking.room).selectinload(Room.site),
)


def _reload(booking_id: int) -> Booking:
    db.session.expire_all()
    return db.session.scalars(
        select(Booking).where(Booking.id == booking_id).options(*_BOOKING_LOAD)
    ).one()


IDEMPOTENCY_KEY = "Idempotency-Key"
# 1-100 printable ASCII characters, not starting or ending with a space (HTTP drops those).
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,98}[!-~])?$"


def _idempotency_key(user: User) -> str | None:
    """The service's submission key for the request's ``Idempotency-Key`` (None without one)."""
    value = request.headers.get(IDEMPOTENCY_KEY)
    if value is None:
        return None
    if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value):
        raise ApiValidationError(
            [
                {
                    "field": IDEMPOTENCY_KEY,
                    "message": "Give 1 to 100 printable ASCII characters, "
                    "not starting or ending with a space.",
                    "type": "value_error",
                }
            ]
        )
    return f"api:{user.id}:{value}"


@operation(
    bp,
    "POST",
    "/bookings",
    summary="Request a booking",
    tag="Bookings",
    response=BookingOut,
    status=201,
    body=BookingIn,
    auth="required",
    errors=(403, 404, 409),
    headers=(
        Header(
            IDEMPOTENCY_KEY,
            "Makes retrying safe: a key of your choice, new for every booking you mean to make "
            "(a UUID, say). A request with a key you have used before and the same body makes "
            "no second booking: it answers with the booking the first one made (201, header "
            "`Idempotent-Replayed: true`); with a different body it is a 422 with the code "
            "`idempotency_key_reused`. Keys are yours alone and kept with the booking.",
            {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "pattern": IDEMPOTENCY_KEY_PATTERN,
            },
        ),
    ),
    response_headers=(
        Header(
            "Idempotent-Replayed",
            "`true` when the answer is the booking an earlier request with the same "
            "`Idempotency-Key` made.",
            {"type": "string", "enum": ["true"]},
        ),
    ),
    refusals=(
        END_AFTER_START,
        Refusal("end", "date_too_long", "A single date may last at most 14 days."),
        Refusal(
            "end", "offset_mismatch", "Give start and end both with or both without an offset."
        ),
        Refusal("end", "series_overlaps", "The dates of the series would overlap each other."),
        Refusal("title", "title_missing", "A title of spaces only."),
        Refusal("description", "control_characters", "Control characters besides line breaks."),
        Refusal("organisation_id", "organisation_unknown", "There is no such organisation."),
        Refusal(
            "house_rules_accepted",
            "house_rules_not_accepted",
            "The room has house rules: send `house_rules_accepted: true`.",
        ),
        Refusal(
            "recurrence",
            "no_dates",
            "A rule that gives no date, more than 500 dates or more than two years, or "
            "`until` with `count` (the field may be one of the rule's, `recurrence.until`).",
        ),
        Refusal(
            IDEMPOTENCY_KEY,
            "idempotency_key_reused",
            "This key was already used for a different request.",
        ),
    ),
)
def create_booking(user: User, body: BookingIn):
    """Books one date or a series atomically: either every date is written (`approved` or
    `pending`, by the room's approval policy) or, if any date cannot be booked, nothing is and
    the 409 answer lists every such date with its reasons. Input that can never be valid is a
    422 before any conflict check. Rooms with house rules need `house_rules_accepted: true`.
    With an `Idempotency-Key` header, a repeated request answers with the first booking."""
    key = _idempotency_key(user)
    command = dataclasses.replace(body.to_command(), submission_key=key)
    try:
        submission = booking_service.submit_booking(user, command)
    except InvalidRequest as exc:
        if exc.code == "idempotency_key_reused":
            exc.field = IDEMPOTENCY_KEY  # the client's name for the key
        raise
    response = serialise(booking_out(_reload(submission.booking.id)), 201)
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@operation(
    bp,
    "GET",
    "/bookings",
    summary="List your bookings",
    tag="Bookings",
    response=Page[BookingOut],
    query=BookingsQuery,
    auth="required",
)
def list_bookings(user: User, query: BookingsQuery):
    """Your bookings and your organisations' bookings; for managers also every booking on their
    sites. Ordered by id. `status`, `from` and `to` select bookings with a date matching all of
    them (`from`/`to` without an offset: the city's zone)."""
    stmt = (
        select(Booking)
        .join(Room, Room.id == Booking.room_id)
        .where(visibility.visible_bookings(user))
        .options(*_BOOKING_LOAD)
    )
    if query.site_id is not None:
        stmt = stmt.where(Room.site_id == query.site_id)
    if query.room_id is not None:
        stmt = stmt.where(
            or_(
                Booking.room_id == query.room_id,
                exists().where(
                    Occurrence.booking_id == Booking.id, Occurrence.room_id == query.room_id
                ),
            )
        )
    date_conditions = []
    if query.status is not None:
        date_conditions.append(Occurrence.status == query.status)
    if query.from_ is not None:
        date_conditions.append(Occurrence.ends_at > _aware(query.from_, _city_zone()))
    if query.to is not None:
        date_conditions.append(Occurrence.starts_at < _aware(query.to, _city_zone()))
    if date_conditions:
        stmt = stmt.where(exists().where(Occurrence.booking_id == Booking.id, *date_conditions))
    rows = _by_id(stmt, Booking.id, query)
    return _page(rows, query.limit, lambda b: (b.id,), booking_out)


@operation(
    bp,
    "GET",
    "/bookings/<int:booking_id>",
    summary="Get a booking",
    tag="Bookings",
    response=BookingOut,
    auth="required",
)
def get_booking(user: User, booking_id: int):
    """A booking you requested, one of your organisations', or one on a site you manage."""
    booking = booking_service.get_booking(user, booking_id)
    return booking_out(_reload(booking.id))


@operation(
    bp,
    "POST",
    "/bookings/<int:booking_id>/cancel",
    summary="Cancel dates",
    tag="Bookings",
    response=BookingOut,
    body=CancelIn,
    body_required=False,
    auth="required",
    errors=(403, 409),
    refusals=(UNKNOWN_DATES,),
)
def cancel_booking(user: User, booking_id: int, body: CancelIn):
    """Cancels the given upcoming dates, or every upcoming pending or approved date."""
    booking_service.cancel(user, booking_id, body.occurrence_ids, body.reason)
    return booking_out(_reload(booking_id))


@operation(
    bp,
    "POST",
    "/bookings/<int:booking_id>/approve",
    summary="Approve dates (managers)",
    tag="Bookings",
    response=ApproveOut,
    body=ApproveIn,
    body_required=False,
    auth="required",
    errors=(403, 409),
    refusals=(UNKNOWN_DATES,),
)
def approve_booking(user: User, booking_id: int, body: ApproveIn):
    """For managers of the booking's site: approves the given pending dates, or all of them.
    A date that has meanwhile become taken or closed is a 409 and nothing is approved. Unless
    `decline_rivals` is false, the other groups' pending dates that want the same time (in
    this room, its parts or its whole) are declined in the same step, and each requester is
    mailed `rival_reason` (or the prepared text); `declined_rivals` lists them. All or nothing:
    if the approval fails, no rival is declined."""
    declined: list[DeclinedRivalOut] = []
    if body.decline_rivals:
        reason = body.rival_reason.strip() or gettext(RIVAL_REASON)
        decision = booking_service.approve_and_decline_rivals(
            user, booking_id, body.occurrence_ids, body.comment, reason
        )
        declined = [
            DeclinedRivalOut(
                booking_id=o.booking_id,
                occurrence_id=o.id,
                room_id=o.room_id,
                start=o.starts_at.astimezone(ZoneInfo(o.room.site.timezone)),
                end=o.ends_at.astimezone(ZoneInfo(o.room.site.timezone)),
            )
            for o in decision.declined_rivals
        ]
    else:
        booking_service.approve(user, booking_id, body.occurrence_ids, body.comment)
    booking = booking_out(_reload(booking_id))
    return ApproveOut(**booking.model_dump(), declined_rivals=declined)


@operation(
    bp,
    "POST",
    "/bookings/<int:booking_id>/decline",
    summary="Decline dates (managers)",
    tag="Bookings",
    response=BookingOut,
    body=DeclineIn,
    auth="required",
    errors=(403, 409),
    refusals=(
        UNKNOWN_DATES,
        Refusal("reason", "reason_missing", "A reason of spaces only."),
    ),
)
def decline_booking(user: User, booking_id: int, body: DeclineIn):
    """For managers of the booking's site: declines the given dates, or every upcoming one;
    `reason` is required and shown to the requester."""
    booking_service.decline(user, booking_id, body.reason, body.occurrence_ids)
    return booking_out(_reload(booking_id))


# --- administration of sites and rooms ---------------------------------------------------------


@operation(
    bp,
    "POST",
    "/sites",
    summary="Create a site (administrators)",
    tag="Administration",
    response=SiteOut,
    status=201,
    body=SiteIn,
    auth="required",
    errors=(403,),
    refusals=SITE_REFUSALS,
)
def create_site(user: User, body: SiteIn):
    """A new site: a building or an outdoor place (`square`, `open_air_stage`, `schoolyard`,
    `park`). `timezone` must be an IANA zone; a name in use is a 422 on `name`."""
    return site_out(places.create_site(user, body.to_command()))


@operation(
    bp,
    "PATCH",
    "/sites/<int:site_id>",
    summary="Change a site (its managers, administrators)",
    tag="Administration",
    response=SiteOut,
    body=SitePatch,
    auth="required",
    errors=(403,),
    refusals=SITE_REFUSALS,
)
def update_site(user: User, site_id: int, body: SitePatch):
    """Changes the given fields. Only administrators may change `active` (deactivate a site)."""
    current = places.site_command(places.site_for_editing(user, site_id))
    return site_out(places.update_site(user, site_id, body.apply(current)))


@operation(
    bp,
    "POST",
    "/rooms",
    summary="Create a room (the site's managers, administrators)",
    tag="Administration",
    response=RoomOut,
    status=201,
    body=RoomIn,
    auth="required",
    errors=(403, 404),
    refusals=ROOM_REFUSALS,
)
def create_room(user: User, body: RoomIn):
    """A new room of `site_id`; with `parent_id` a part of a room of the same site (booking the
    whole then blocks the part and the other way round)."""
    return room_out(places.create_room(user, body.site_id, body.to_command()).room)


@operation(
    bp,
    "PATCH",
    "/rooms/<int:room_id>",
    summary="Change a room (the site's managers, administrators)",
    tag="Administration",
    response=RoomOut,
    body=RoomPatch,
    auth="required",
    errors=(403,),
    refusals=ROOM_REFUSALS,
)
def update_room(user: User, room_id: int, body: RoomPatch):
    """Changes the given fields. A `parent_id` that would make the room a part of itself or of
    one of its parts, or of a room of another site, is a 422. Approved dates are not re-checked
    when buffers or parts change."""
    current = places.room_command(places.room_for_editing(user, room_id))
    return room_out(places.update_room(user, room_id, body.apply(current)).room)


@operation(
    bp,
    "PUT",
    "/sites/<int:site_id>/opening-hours",
    summary="Set the opening hours of a site or a room (the site's managers, administrators)",
    tag="Administration",
    response=OpeningHoursOut,
    body=OpeningHoursIn,
    auth="required",
    errors=(403, 404),
    refusals=(
        ROOM_NOT_AT_SITE,
        Refusal("windows", "invalid_windows", "Please check the opening hours."),
        *(
            Refusal(f"day{weekday}", "windows_overlap", "Windows that overlap or end first.")
            for weekday in range(7)
        ),
    ),
)
def set_opening_hours(user: User, site_id: int, body: OpeningHoursIn):
    """Replaces the weekly windows of the site (`room_id` null) or of one of its rooms, whose
    own hours then replace the site's. An empty list removes a room's override; for the site it
    means always open. Overlapping windows on a day are a 422 on `day<weekday>`. Approved dates
    are not re-checked: `outside_opening_hours` counts the upcoming ones now outside the hours.
    Dated exceptions have their own operation (`PUT /sites/{site_id}/opening-exceptions`)."""
    saved = places.set_opening_hours(user, site_id, body.room_id, body.to_windows())
    return OpeningHoursOut(
        site_id=site_id,
        room_id=body.room_id,
        windows=[
            OpeningWindowModel(weekday=d, opens=clock(o), closes=clock(c))
            for d, o, c in saved.windows
        ],
        outside_opening_hours=saved.outside,
    )


@operation(
    bp,
    "PUT",
    "/sites/<int:site_id>/opening-exceptions",
    summary="Set the dated exceptions to the opening hours of a site or a room "
    "(the site's managers, administrators)",
    tag="Administration",
    response=OpeningExceptionsOut,
    body=OpeningExceptionsIn,
    auth="required",
    errors=(403, 404),
    refusals=(
        ROOM_NOT_AT_SITE,
        Refusal(
            "exceptions",
            "day_in_past",
            "An entry that cannot be: a past date, one listed twice, closing before opening "
            "(the field names the entry, `exceptions.0.date`).",
        ),
    ),
)
def set_opening_exceptions(user: User, site_id: int, body: OpeningExceptionsIn):
    """Replaces every exception of the site (`room_id` null) or of one of its rooms from today
    (the site's local date) on; past ones stay. On a date with an exception only its hours
    apply (`closed`: nobody can book that date); a room's own exception overrides the site's,
    and the site's applies to rooms with weekly hours of their own too. Errors name the entry,
    e.g. `exceptions.2.closes` (closing before opening), `exceptions.0.date` (a past date or
    one listed twice). Approved dates are not re-checked: `outside_opening_hours` counts the
    upcoming ones now outside the hours."""
    places.site_for_editing(user, site_id)  # 403/404 before any complaint about the body
    saved = places.replace_opening_exceptions(user, site_id, body.room_id, body.to_commands())
    return OpeningExceptionsOut(
        site_id=saved.site_id,
        room_id=saved.room_id,
        exceptions=[
            OpeningExceptionOut(
                id=e.id,
                date=e.day,
                opens=None if e.opens is None else clock(e.opens),
                closes=None if e.closes is None else clock(e.closes),
                closed=e.opens is None,
                reason=e.reason,
            )
            for e in saved.exceptions
        ],
        outside_opening_hours=saved.outside,
    )


# --- description ------------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    tag="Meta",
    response=None,
    public=True,
    raw=True,
)
def openapi():
    return Response(spec.openapi_json(), mimetype="application/json")


# The HTML documentation is a page of the web surface (``booking.web.api_docs``): it has the
# site's layout and language, and the API stays tokens-only. Listed here, it keeps its place in
# the document and in the docs' own list of routes.
spec.describe(
    "GET",
    "/docs",
    endpoint="docs",
    summary="Human-readable API documentation (HTML)",
    tag="Meta",
    public=True,
)
