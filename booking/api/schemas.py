"""Pydantic models of API v1: requests validate input and build service commands, responses
serialise. The OpenAPI document is generated from these very classes (see ``spec.py``)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from booking import domain
from booking.languages import SPOKEN_LANGUAGES
from booking.models import (
    ApprovalPolicy,
    OccurrenceStatus,
    OfferAudience,
    OfferCategory,
    OrganisationKind,
    SiteKind,
)
from booking.services import bookings as booking_service
from booking.services import features as equipment
from booking.services import places
from booking.services.errors import N_, InvalidRequest
from booking.services.text import SINGLE_LINE_PATTERN

# Identifiers are 32-bit integers in the database; larger numbers can never name anything.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# PostgreSQL text cannot hold NUL characters; refuse them at the edge with a field name.
NoNul = StringConstraints(pattern=r"^[^\x00]*$")
SpokenLanguage = Literal[SPOKEN_LANGUAGES]  # ISO 639-1 codes (booking/languages.py)
Text = Annotated[str, NoNul]
# One-line text (a title, a name) holds no control character: it ends up in mail subjects.
OneLine = StringConstraints(pattern=SINGLE_LINE_PATTERN)
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
T = TypeVar("T")
DayCode = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


class RequestModel(BaseModel):
    """Request bodies: unknown keys are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class QueryModel(BaseModel):
    """Query parameters; unknown parameters are ignored (cache busters and the like)."""

    model_config = ConfigDict(extra="ignore")


# --- requests ---------------------------------------------------------------------------------


class RecurrenceIn(RequestModel):
    """A repeat rule. Give ``until`` or ``count`` (not both). At most 500 dates within two years."""

    freq: Literal["daily", "weekly", "monthly"]
    interval: int = Field(1, ge=1, le=52, description="Every n-th day/week/month.")
    byweekday: list[DayCode] = Field(
        default_factory=list,
        max_length=7,
        description="Weekdays (weekly), or the one weekday of an n-th weekday rule (monthly).",
    )
    bymonthday: int | None = Field(None, ge=1, le=31, description="Day of the month (monthly).")
    bysetpos: Literal[1, 2, 3, 4, 5, -1] | None = Field(
        None, description="Monthly n-th weekday: 1..5, or -1 for the last."
    )
    until: date | None = Field(None, description="Last day (inclusive, local date).")
    count: int | None = Field(None, ge=1, le=500, description="Number of dates.")
    exdates: list[date] = Field(default_factory=list, max_length=500, description="Left out.")
    skip_closures: bool = Field(False, description="Leave out dates when the site is closed.")

    def to_domain(self) -> domain.Recurrence:
        return domain.Recurrence(
            freq=domain.Frequency(self.freq),
            interval=self.interval,
            byweekday=tuple(DAY_CODES.index(d) for d in self.byweekday),
            bymonthday=self.bymonthday,
            bysetpos=self.bysetpos,
            until=self.until,
            count=self.count,
            exdates=frozenset(self.exdates),
            skip_closures=self.skip_closures,
        )


def _year_in_range(value: datetime) -> datetime:
    # Far-away years overflow when converted between zones; no booking lies there anyway.
    if not 1900 <= value.year <= 2200:
        raise ValueError("the year must be between 1900 and 2200")
    return value


# Not JSON Schema's "date-time" (RFC 3339 demands an offset): a time without one is welcome and
# means local wall time. The pattern is the whole promise (years 1900-2200, months 01-12, hours
# 00-23): what it refuses the API refuses too; of what it allows only days the calendar lacks
# (2030-02-30) are a 422, which the operations' documents list.
LOCAL_OR_OFFSET = (
    r"^(19\d\d|2[01]\d\d|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$"
)
_LOCAL_OR_OFFSET = re.compile(LOCAL_OR_OFFSET)


def _timestamp_text(value: Any) -> Any:
    # pydantic alone would also take a bare date, a Unix time or "+0100": the schema does not
    # promise those, so a client must not come to rely on them.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _LOCAL_OR_OFFSET.fullmatch(value):
        raise ValueError("give a date and time like 2030-01-07T18:00 or 2030-01-07T17:00:00Z")
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp_text),
    AfterValidator(_year_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_OR_OFFSET,
            "description": "ISO 8601 date and time; without an offset it is local wall time.",
            "examples": ["2026-09-15T18:00", "2026-09-15T16:00:00Z"],
        }
    ),
]


class BookingIn(RequestModel):
    """A booking request. ``start``/``end`` are ISO 8601; without an offset they are read as
    local time in the room's site's time zone. With ``recurrence`` they are the first date."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "room_id": 12,
                    "title": "Chorprobe",
                    "start": "2026-09-15T18:00:00",
                    "end": "2026-09-15T20:00:00",
                    "organisation_id": 3,
                    "attendees": 25,
                    "public": False,
                    "recurrence": {"freq": "weekly", "byweekday": ["TU"], "until": "2026-12-15"},
                }
            ]
        },
    )

    room_id: Id
    title: Annotated[str, OneLine, Field(min_length=1, max_length=booking_service.TITLE_MAX)]
    start: Timestamp
    end: Timestamp
    organisation_id: Id | None = Field(
        None, description="Book for this organisation; without it you book as a private person."
    )
    description: Annotated[str, NoNul, Field(max_length=booking_service.DESCRIPTION_MAX)] = ""
    attendees: int | None = Field(None, ge=1, le=booking_service.ATTENDEES_MAX)
    public: bool = Field(False, description="Show the booking as an open offer.")
    offer_category: OfferCategory | None = Field(
        None, description="What kind of open offer it is (public bookings)."
    )
    offer_audience: OfferAudience | None = Field(None, description="Whom the open offer is for.")
    offer_languages: list[SpokenLanguage] = Field(
        default_factory=list, max_length=len(SPOKEN_LANGUAGES), description="Languages spoken."
    )
    free_of_charge: bool = Field(False, description="The open offer costs nothing.")
    drop_in: bool = Field(False, description="People may come without signing up.")
    recurrence: RecurrenceIn | None = None
    house_rules_accepted: bool = Field(
        False,
        description="Must be true for rooms with house rules (see the room's `house_rules`).",
    )

    def to_command(self) -> booking_service.BookingCommand:
        """The same command the web form builds; the service does all the checking."""
        return booking_service.BookingCommand(
            room_id=self.room_id,
            title=self.title,
            start=self.start,
            end=self.end,
            organisation_id=self.organisation_id,
            description=self.description,
            attendees=self.attendees,
            is_public=self.public,
            offer_category=self.offer_category.value if self.offer_category else None,
            offer_audience=self.offer_audience.value if self.offer_audience else None,
            offer_languages=tuple(self.offer_languages),
            free_of_charge=self.free_of_charge,
            drop_in=self.drop_in,
            recurrence=self.recurrence.to_domain() if self.recurrence else None,
            house_rules_accepted=self.house_rules_accepted,
        )


OccurrenceIds = Annotated[list[Id], Field(max_length=500)]


class CancelIn(RequestModel):
    occurrence_ids: OccurrenceIds | None = Field(
        None, description="Only these dates; without it every upcoming active date."
    )
    reason: Annotated[str, NoNul, Field(max_length=booking_service.REASON_MAX)] = ""


class ApproveIn(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "occurrence_ids": [108],
                    "comment": "Schlüssel beim Hausmeister.",
                    "rival_reason": "Die Halle ist an diesem Abend an den TV Iserlohn vergeben.",
                }
            ]
        },
    )

    occurrence_ids: OccurrenceIds | None = Field(
        None, description="Only these dates; without it every upcoming pending date."
    )
    comment: Annotated[str, NoNul, Field(max_length=booking_service.REASON_MAX)] = ""
    decline_rivals: bool = Field(
        True,
        description="Also decline the other groups' pending dates that want the same room "
        "(or a part or whole of it) at an overlapping time, and mail their requesters; "
        "`false` leaves them pending.",
    )
    rival_reason: Annotated[str, NoNul, Field(max_length=booking_service.REASON_MAX)] = Field(
        "",
        description="What the declined rival requesters are told; empty: a prepared text "
        "(“Another group was given this time.”, in German unless the request's "
        "`Accept-Language` asks for English).",
    )


class DeclineIn(RequestModel):
    reason: Annotated[str, NoNul, Field(min_length=1, max_length=booking_service.REASON_MAX)]
    occurrence_ids: OccurrenceIds | None = Field(
        None, description="Only these dates; without it every upcoming active date."
    )


# --- query parameters -------------------------------------------------------------------------


class PageQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="Items per page (at most 200).")
    cursor: Annotated[str, NoNul, Field(max_length=200)] | None = Field(
        None,
        description="Opaque cursor from the `next` link of the previous page; empty or absent: "
        "the first page.",
    )


class RoomsQuery(PageQuery):
    site_id: Id | None = None
    district: Annotated[str, NoNul, Field(max_length=100)] | None = None
    min_capacity: int | None = Field(None, ge=0, le=100_000)
    features: Annotated[str, NoNul, Field(max_length=500)] | None = Field(
        None,
        description="Comma-separated feature keys; every one is required. The keys come from "
        "the equipment list administrators keep (`projector`, `wifi`, ...; see a room's "
        "`features`); an unknown or deactivated key is refused (422 naming `features`).",
    )
    step_free: bool | None = Field(None, description="`true`: only step-free rooms.")
    free_start: Timestamp | None = Field(
        None, description="With `free_end`: only rooms free for the whole interval."
    )
    free_end: Timestamp | None = None

    @field_validator("features")
    @classmethod
    def _known_features(cls, value: str | None) -> str | None:
        if value:
            try:
                equipment.check_search_features(value.split(","))
            except InvalidRequest as exc:
                raise ValueError(f"unknown feature(s): {exc.params['keys']}") from None
        return value

    def feature_list(self) -> tuple[str, ...]:
        if not self.features:
            return ()
        return equipment.check_search_features(self.features.split(","))


class AvailabilityQuery(QueryModel):
    start: Timestamp = Field(description="Window start (ISO 8601; no offset: the site's zone).")
    end: Timestamp = Field(description="Window end; at most 62 days after the start.")


class BookingsQuery(PageQuery):
    status: OccurrenceStatus | None = Field(None, description="Bookings with a date in it.")
    site_id: Id | None = None
    room_id: Id | None = None
    from_: Timestamp | None = Field(
        None, alias="from", description="Bookings with a date ending after this."
    )
    to: Timestamp | None = Field(None, description="Bookings with a date starting before this.")


class OffersQuery(PageQuery):
    district: Annotated[str, NoNul, Field(max_length=100)] | None = None
    q: Annotated[str, NoNul, Field(max_length=100)] | None = Field(
        None,
        description="Words the title or description must hold (PostgreSQL: German stems; "
        "SQLite: word beginnings).",
    )
    accessible: bool = Field(False, description="Only offers in step-free rooms.")
    category: OfferCategory | None = None
    audience: OfferAudience | None = None
    language: SpokenLanguage | None = Field(None, description="Offers held in this language.")
    free: bool = Field(False, description="Only offers free of charge.")
    drop_in: bool = Field(False, description="Only offers one can drop in to without sign-up.")


# --- responses --------------------------------------------------------------------------------


class OpeningWindowOut(BaseModel):
    """One weekly window: `weekday` 0 (Monday) to 6 (Sunday), local `opens`/`closes` HH:MM
    (`24:00`: midnight at the end of the day)."""

    weekday: int
    opens: str
    closes: str


class SiteAddress(BaseModel):
    street: str
    postcode: str
    city: str


class SiteLinks(BaseModel):
    self: str
    rooms: str


class SiteOut(BaseModel):
    id: int
    name: str
    kind: SiteKind
    district: str
    address: SiteAddress
    timezone: str = Field(description="IANA time zone of the site's local times.")
    description: str
    contact_name: str = Field(description="Contact person the site publishes; may be empty.")
    contact_phone: str
    contact_email: str
    active: bool = Field(
        description="Always true in GET answers (inactive sites are not listed); "
        "false after an administrator deactivates the site."
    )
    opening_hours: list[OpeningWindowOut] = Field(
        description="The site's weekly windows, Monday first; empty: open at any time. Rooms "
        "may have hours of their own (see `/rooms/{id}/availability`)."
    )
    links: SiteLinks


class RoomLinks(BaseModel):
    self: str
    web: str = Field(description="The room's page on the website.")
    feed: str = Field(description="iCalendar feed of the room's bookings.")
    availability: str


class RoomOut(BaseModel):
    id: int
    site_id: int
    parent_id: int | None = Field(description="The whole this room is a part of.")
    part_ids: list[int] = Field(
        description="The active rooms that are parts of this one (booking the whole blocks them)."
    )
    name: str
    capacity: int
    area_m2: int | None
    description: str
    features: list[str] = Field(
        description="Keys of the room's equipment, from the list administrators keep."
    )
    step_free: bool
    accessible_toilet: bool
    hearing_loop: bool
    approval_policy: ApprovalPolicy
    house_rules: str = Field(description="Non-empty: bookings need `house_rules_accepted`.")
    min_lead_minutes: int = Field(description="Notice: book at least this long in advance.")
    max_advance_days: int | None = Field(description="Book at most this far ahead; null: no limit.")
    min_duration_minutes: int | None = Field(description="Shortest date; null: no limit.")
    max_duration_minutes: int | None = Field(description="Longest date; null: no limit.")
    buffer_before_minutes: int = Field(description="Set-up time kept free before each booking.")
    buffer_after_minutes: int = Field(description="Cleaning time kept free after each booking.")
    active: bool = Field(
        description="Always true in GET answers (inactive rooms are not listed); "
        "false after the room is deactivated."
    )
    links: RoomLinks


class Interval(BaseModel):
    start: datetime
    end: datetime


class BusyInterval(Interval):
    """An occupied time; title and organisation only for public bookings."""

    public: bool
    title: str | None
    organisation: str | None


class AvailabilityOut(BaseModel):
    room_id: int
    start: datetime
    end: datetime
    timezone: str
    busy: list[BusyInterval]
    free: list[Interval] = Field(description="Free intervals within opening hours.")


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: OrganisationKind
    district: str
    description: str
    website: str
    email: str = Field(description="The public contact address; empty if none.")


class OccurrenceOut(BaseModel):
    id: int
    room_id: int
    start: datetime
    end: datetime
    status: OccurrenceStatus
    status_reason: str


class BookingLinks(BaseModel):
    self: str
    room: str


class BookingOut(BaseModel):
    id: int
    room_id: int
    site_id: int
    organisation_id: int | None
    title: str
    description: str
    attendees: int | None
    public: bool
    rrule: str | None = Field(description="RFC 5545 RRULE of a series, else null.")
    created_at: datetime
    occurrences: list[OccurrenceOut]
    links: BookingLinks


class DeclinedRivalOut(BaseModel):
    """A rival date declined by an approval."""

    booking_id: int
    occurrence_id: int
    room_id: int
    start: datetime
    end: datetime


class ApproveOut(BookingOut):
    """The approved booking, and the rival dates declined in the same step."""

    declined_rivals: list[DeclinedRivalOut] = Field(
        description="Other bookings' dates declined because they wanted the approved time "
        "(empty with `decline_rivals: false`). Their requesters were mailed the reason."
    )


class OfferOut(BaseModel):
    occurrence_id: int
    booking_id: int
    title: str
    description: str
    start: datetime
    end: datetime
    room_id: int
    room_name: str
    site_id: int
    site_name: str
    district: str
    organisation: str | None
    category: OfferCategory | None
    audience: OfferAudience | None
    languages: list[str]
    free_of_charge: bool
    drop_in: bool
    accessible: bool = Field(description="The room is step-free.")
    url: str = Field(description="The offer's page.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    next: str | None = Field(description="URL of the next page; null on the last page.")


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class ConflictReason(BaseModel):
    reason: str = Field(description="taken, closed, outside_opening_hours, too_short_notice, …")
    message: str
    label: str | None = None


class ConflictDate(BaseModel):
    start: datetime
    end: datetime
    local_start: datetime = Field(
        description="The same moment as `start` in the site's wall time, with that zone's "
        "offset (`2030-01-07T18:00:00+01:00`)."
    )
    reasons: list[ConflictReason]


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str = Field(description="Machine-readable error code.")
    detail: str | None = None
    field: str | None = Field(None, description="Validation errors: the offending field.")
    errors: list[FieldError] | None = None
    conflicts: list[ConflictDate] | None = Field(
        None, description="409 conflict: every date that cannot be booked, with reasons."
    )


def problem_example(status: int, code: str, title: str, **extra: Any) -> dict[str, Any]:
    from booking.errors import PROBLEM_BASE

    return {"type": PROBLEM_BASE + code, "title": title, "status": status, "code": code, **extra}


# --- administration of sites and rooms ---------------------------------------------------------


def _short(limit: int):
    return Annotated[str, NoNul, Field(max_length=limit)]


def _line(limit: int):
    return Annotated[str, OneLine, Field(max_length=limit)]


Minutes = Annotated[int, Field(ge=0, le=places.LEAD_MAX_MINUTES)]


class SiteFields(RequestModel):
    """What a site is; the service checks meaning (a known time zone, a free name)."""

    street: _line(places.STREET_MAX) = ""
    postcode: _line(places.POSTCODE_MAX) = ""
    city: _line(places.CITY_MAX) = "Iserlohn"
    timezone: _line(64) = Field("Europe/Berlin", description="An IANA time zone.")
    contact_name: _line(places.CONTACT_NAME_MAX) = ""
    contact_phone: _line(places.PHONE_MAX) = ""
    contact_email: _line(places.EMAIL_MAX) = ""
    description: _short(places.TEXT_MAX) = Field("", description="Public description.")
    active: bool = Field(True, description="Only administrators may change it.")


class SiteIn(SiteFields):
    """A new site (administrators only)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Alter Markt",
                    "kind": "square",
                    "district": "Innenstadt",
                    "postcode": "58636",
                    "timezone": "Europe/Berlin",
                }
            ]
        },
    )

    name: Annotated[str, OneLine, Field(min_length=1, max_length=places.NAME_MAX)]
    kind: SiteKind
    district: Annotated[str, OneLine, Field(min_length=1, max_length=places.DISTRICT_MAX)]

    def to_command(self) -> places.SiteCommand:
        return places.SiteCommand(**self.model_dump())


class SitePatch(RequestModel):
    """The fields to change; the others stay as they are."""

    name: Annotated[str, OneLine, Field(min_length=1, max_length=places.NAME_MAX)] = None
    kind: SiteKind = None
    district: Annotated[str, OneLine, Field(min_length=1, max_length=places.DISTRICT_MAX)] = None
    street: _line(places.STREET_MAX) = None
    postcode: _line(places.POSTCODE_MAX) = None
    city: _line(places.CITY_MAX) = None
    timezone: _line(64) = None
    contact_name: _line(places.CONTACT_NAME_MAX) = None
    contact_phone: _line(places.PHONE_MAX) = None
    contact_email: _line(places.EMAIL_MAX) = None
    description: _short(places.TEXT_MAX) = None
    active: bool = Field(None, description="Only administrators may change it.")

    def apply(self, current: places.SiteCommand) -> places.SiteCommand:
        return dataclasses.replace(current, **self.model_dump(exclude_unset=True))


RoomName = Annotated[str, OneLine, Field(min_length=1, max_length=places.NAME_MAX)]
Capacity = Annotated[int, Field(ge=0, le=places.CAPACITY_MAX)]
Area = Annotated[int, Field(ge=1, le=places.AREA_MAX)]
AdvanceDays = Annotated[int, Field(ge=1, le=places.ADVANCE_MAX_DAYS)]
Duration = Annotated[int, Field(ge=1, le=places.DURATION_MAX_MINUTES)]
Buffer = Annotated[int, Field(ge=0, le=places.MAX_BUFFER_MINUTES)]
FeatureKey = Annotated[
    str, Field(min_length=1, max_length=equipment.KEY_MAX, pattern=r"^[a-z0-9_]+$")
]
Features = Annotated[
    list[FeatureKey],
    Field(
        max_length=200,
        description="Feature keys from the equipment list administrators keep (`projector`, "
        "`wifi`, ...). An unknown key, or a deactivated one the room does not have yet, is "
        "refused (422 naming `features`).",
    ),
]


class RoomIn(RequestModel):
    """A new room of a site (its managers and administrators); with ``parent_id`` a part of
    another room of the same site."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site_id": 3,
                    "parent_id": 12,
                    "name": "Halle, Drittel 1",
                    "capacity": 40,
                    "features": ["sports_floor"],
                    "buffer_after_minutes": 15,
                }
            ]
        },
    )

    site_id: Id
    name: RoomName
    capacity: Capacity
    parent_id: Id | None = Field(None, description="Make the room a part of this room.")
    area_m2: Area | None = None
    description: _short(places.TEXT_MAX) = ""
    house_rules: _short(places.TEXT_MAX) = ""
    step_free: bool = False
    accessible_toilet: bool = False
    hearing_loop: bool = False
    approval_policy: ApprovalPolicy = ApprovalPolicy.MANUAL
    min_lead_minutes: Minutes = 0
    max_advance_days: AdvanceDays | None = 400
    min_duration_minutes: Duration | None = 30
    max_duration_minutes: Duration | None = 12 * 60
    buffer_before_minutes: Buffer = 0
    buffer_after_minutes: Buffer = 0
    features: Features = Field(default_factory=list)
    active: bool = True

    def to_command(self) -> places.RoomCommand:
        values = self.model_dump(exclude={"site_id"})
        return places.RoomCommand(**(values | {"features": tuple(values["features"])}))


class RoomPatch(RequestModel):
    """The fields to change; the others stay as they are. ``null`` clears a limit (no
    maximum, no part of another room)."""

    name: RoomName = None
    capacity: Capacity = None
    parent_id: Id | None = None
    area_m2: Area | None = None
    description: _short(places.TEXT_MAX) = None
    house_rules: _short(places.TEXT_MAX) = None
    step_free: bool = None
    accessible_toilet: bool = None
    hearing_loop: bool = None
    approval_policy: ApprovalPolicy = None
    min_lead_minutes: Minutes = None
    max_advance_days: AdvanceDays | None = None
    min_duration_minutes: Duration | None = None
    max_duration_minutes: Duration | None = None
    buffer_before_minutes: Buffer = None
    buffer_after_minutes: Buffer = None
    features: Features = None
    active: bool = None

    def apply(self, current: places.RoomCommand) -> places.RoomCommand:
        values = self.model_dump(exclude_unset=True)
        if "features" in values:
            values["features"] = tuple(values["features"])
        return dataclasses.replace(current, **values)


# --- opening hours ----------------------------------------------------------------------------

Clock = Annotated[
    str,
    Field(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        description="Local time HH:MM; `24:00` is midnight at the end of the day.",
    ),
]


def _clock_minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class OpeningWindowModel(RequestModel):
    """One weekly window: `weekday` 0 (Monday) to 6 (Sunday), `opens` before `closes`."""

    weekday: Annotated[int, Field(ge=0, le=6)]
    opens: Clock
    closes: Clock


class OpeningHoursIn(RequestModel):
    """The whole week of a site (`room_id` null) or of one of its rooms (an override)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "room_id": None,
                    "windows": [
                        *({"weekday": d, "opens": "16:00", "closes": "22:00"} for d in range(5)),
                        {"weekday": 5, "opens": "09:00", "closes": "18:00"},
                    ],
                }
            ]
        },
    )

    room_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="A room of this site whose own hours replace the site's; null: the site."
    )
    windows: list[OpeningWindowModel] = Field(
        max_length=places.MAX_WINDOWS,
        description="An empty list removes a room's override; for the site it means always open.",
    )

    def to_windows(self) -> list[places.Window]:
        return [
            (w.weekday, _clock_minutes(w.opens), _clock_minutes(w.closes)) for w in self.windows
        ]


class OpeningHoursOut(BaseModel):
    site_id: int
    room_id: int | None
    windows: list[OpeningWindowModel]
    outside_opening_hours: int = Field(
        description="Upcoming approved dates that now lie outside the hours (not changed)."
    )


class OpeningExceptionIn(RequestModel):
    """Other hours on one local date of the site: `opens`-`closes`, or `closed` all day."""

    date: date
    opens: Clock | None = None
    closes: Clock | None = None
    closed: bool = Field(False, description="Closed all day; then give no times.")
    reason: Annotated[Text, Field(max_length=places.EXCEPTION_REASON_MAX)] = ""

    def to_command(self, index: int) -> places.ExceptionCommand:
        prefix = f"exceptions.{index}."
        if self.closed and (self.opens is not None or self.closes is not None):
            field_name = prefix + ("opens" if self.opens is not None else "closes")
            raise InvalidRequest(
                N_("A date closed all day has no times."), field_name, code="closed_with_times"
            )
        if not self.closed and self.opens is None and self.closes is None:
            raise InvalidRequest(
                N_("Please give both times, or none for closed all day."),
                prefix + "opens",
                code="time_missing",
            )
        return places.ExceptionCommand(
            self.date,
            None if self.opens is None else _clock_minutes(self.opens),
            None if self.closes is None else _clock_minutes(self.closes),
            self.reason,
        )


class OpeningExceptionsIn(RequestModel):
    """All upcoming dated exceptions of a site (`room_id` null) or of one of its rooms."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "room_id": None,
                    "exceptions": [
                        {
                            "date": "2026-12-24",
                            "opens": "09:00",
                            "closes": "12:00",
                            "reason": "Heiligabend",
                        },
                        {"date": "2026-12-31", "closed": True, "reason": "Silvester"},
                    ],
                }
            ]
        },
    )

    room_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="A room of this site whose own exceptions override the site's."
    )
    exceptions: list[OpeningExceptionIn] = Field(
        max_length=places.MAX_EXCEPTIONS,
        description="Replaces every exception of the owner from today on; an empty list "
        "removes them all. One entry per date.",
    )

    def to_commands(self) -> list[places.ExceptionCommand]:
        return [e.to_command(i) for i, e in enumerate(self.exceptions)]


class OpeningExceptionOut(BaseModel):
    id: int
    date: date
    opens: str | None = Field(description="`HH:MM`; null when closed all day.")
    closes: str | None
    closed: bool
    reason: str


class OpeningExceptionsOut(BaseModel):
    site_id: int
    room_id: int | None
    exceptions: list[OpeningExceptionOut] = Field(description="From today on, by date.")
    outside_opening_hours: int = Field(
        description="Upcoming approved dates that now lie outside the hours (not changed)."
    )
