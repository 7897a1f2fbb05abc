"""Requesting a booking: check every date first (the preview), then write it all or nothing.

On SQLite the write lock is taken (``begin_write``) before the conflict check; on PostgreSQL the
exclusion constraint on ``occupancy`` is the guarantee, and its violation turns into the same
``Conflict`` the Python check gives (``occupancy.guarded``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from booking import domain
from booking.database import begin_write
from booking.extensions import db
from booking.languages import SPOKEN_LANGUAGES
from booking.models import (
    ApprovalPolicy,
    Booking,
    Occurrence,
    OccurrenceStatus,
    OfferAudience,
    OfferCategory,
    Organisation,
    Room,
    User,
)
from booking.services import audit as audit_trail
from booking.services import occupancy, permissions
from booking.services.errors import N_, Conflict, InvalidRequest, NotPermitted
from booking.services.notifications import notify_booking_received, notify_new_request
from booking.services.room_context import RoomContext, active_room, load_context
from booking.services.text import check_clean_text, check_single_line

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
ATTENDEES_MAX = 10_000
REASON_MAX = 2000
SUBMISSION_KEY_MAX = 200  # Booking.submission_key
# One date longer than this cannot be a room booking, whatever the room allows.
LONGEST_DATE = occupancy.LONGEST_DATE

ACTIVE = (OccurrenceStatus.PENDING, OccurrenceStatus.APPROVED)

# What the domain's recurrence errors mean for a requester, by their code (else the field they
# blame). The domain explains in technical English (``RecurrenceError.message``: the API's
# ``detail``); these are the sentences a form shows, translated.
RECURRENCE_MESSAGES = {
    "until_before_start": N_("The last date is before the first date."),
    "no_match": N_("No date up to the last date matches the repetition."),
    "too_long": N_("That series is too long: at most 500 dates within two years."),
    "until": N_("Please give a last date or a number of dates."),
    "count": N_("Please choose between 1 and 500 dates."),
    "freq": N_("This repetition gives no dates. Please check it."),
    "interval": N_("This repetition gives no dates. Please check it."),
    "rrule": N_("This repetition gives no dates. Please check it."),
    "byweekday": N_("Please check the weekdays."),
    "bysetpos": N_("Please check which weekday of the month."),
    "bymonthday": N_("Please check which weekday of the month."),
}


def recurrence_problem(exc: domain.RecurrenceError, field: str) -> InvalidRequest:
    """The core's recurrence error as a requester reads it; the API's detail keeps the core's."""
    message = RECURRENCE_MESSAGES.get(exc.code) or RECURRENCE_MESSAGES.get(exc.field)
    return InvalidRequest(
        message or N_("Please check the repetition."),
        field,
        code=f"recurrence_{exc.code}",
        detail=exc.message,
    )


@dataclass(frozen=True)
class BookingCommand:
    """What a requester asks for, parsed by a form or a JSON schema into the same shape.

    ``start`` and ``end`` are the first date's local wall times in the site's zone (naive); an
    aware value is converted to the site's zone first.
    """

    room_id: int
    title: str
    start: datetime
    end: datetime
    organisation_id: int | None = None
    description: str = ""
    attendees: int | None = None
    is_public: bool = False
    # What a public booking tells people looking for open offers (all optional).
    offer_category: str | None = None
    offer_audience: str | None = None
    offer_languages: tuple[str, ...] = ()
    free_of_charge: bool = False
    drop_in: bool = False
    recurrence: domain.Recurrence | None = None
    # Book the dates that are free and leave out the others; otherwise any problem books nothing.
    book_free_dates_only: bool = False
    house_rules_accepted: bool = False
    # One submission of a form or API call (see ``submit_booking``): a repeat with the same key
    # answers with the booking the first one made. Namespaced by the surface ("web:<user id>:...",
    # "api:<user id>:...") so that no client's key can meet another's.
    submission_key: str | None = None

    def digest(self) -> str:
        """SHA-256 of everything asked for except the submission key: tells a repeat of a
        submission from another request sent with the same key."""
        r = self.recurrence
        parts = {
            "room_id": self.room_id,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "organisation_id": self.organisation_id,
            "description": self.description,
            "attendees": self.attendees,
            "is_public": self.is_public,
            "book_free_dates_only": self.book_free_dates_only,
            "house_rules_accepted": self.house_rules_accepted,
            "recurrence": None
            if r is None
            else {
                "freq": r.freq.value,
                "interval": r.interval,
                "byweekday": list(r.byweekday),
                "bymonthday": r.bymonthday,
                "bysetpos": r.bysetpos,
                "until": r.until.isoformat() if r.until else None,
                "count": r.count,
                "exdates": sorted(d.isoformat() for d in r.exdates),
                "skip_closures": r.skip_closures,
            },
        }
        offer = {
            "category": self.offer_category,
            "audience": self.offer_audience,
            "languages": list(self.offer_languages),
            "free_of_charge": self.free_of_charge,
            "drop_in": self.drop_in,
        }
        if any(offer.values()):  # digests of requests without offer details stay as they were
            parts["offer"] = offer
        canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class BookingPlan:
    """A checked request: every date with its problems, and how it would be answered."""

    room: Room
    context: RoomContext
    dates: tuple[domain.DatePlan, ...]
    skipped: tuple[domain.Skipped, ...]
    status: OccurrenceStatus
    organisation: Organisation | None = None

    @property
    def zone(self) -> ZoneInfo:
        return self.context.zone

    @property
    def bookable(self) -> list[domain.DatePlan]:
        return [d for d in self.dates if d.bookable]

    @property
    def blocked(self) -> list[domain.DatePlan]:
        return [d for d in self.dates if not d.bookable]


def now_or(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def local_naive(value: datetime, zone: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None)


def check_span(start: datetime, end: datetime, field: str = "end") -> None:
    """A date must end after it starts and last at most ``LONGEST_DATE``."""
    if end <= start:
        raise InvalidRequest(N_("The end must be after the start."), field, code="end_before_start")
    if end - start > LONGEST_DATE:
        raise InvalidRequest(
            N_("A single date may last at most %(days)d days."),
            field,
            code="date_too_long",
            days=LONGEST_DATE.days,
        )


def validate_command(cmd: BookingCommand) -> BookingCommand:
    """Shape and meaning checks that need no database: these can never be valid."""
    title = (cmd.title or "").strip()
    if not title:
        raise InvalidRequest(N_("Please give the booking a title."), "title", code="title_missing")
    if len(title) > TITLE_MAX:
        raise InvalidRequest(
            N_("The title may have at most %(max)d characters."),
            "title",
            code="title_too_long",
            max=TITLE_MAX,
        )
    check_single_line(title, "title")  # it becomes a mail's subject
    check_clean_text(cmd.description or "", "description")
    if len(cmd.description or "") > DESCRIPTION_MAX:
        raise InvalidRequest(
            N_("The description may have at most %(max)d characters."),
            "description",
            code="description_too_long",
            max=DESCRIPTION_MAX,
        )
    if cmd.attendees is not None and not (1 <= cmd.attendees <= ATTENDEES_MAX):
        raise InvalidRequest(
            N_("The number of people must be between 1 and %(max)d."),
            "attendees",
            code="attendees_out_of_range",
            max=ATTENDEES_MAX,
        )
    if (cmd.start.tzinfo is None) != (cmd.end.tzinfo is None):
        raise InvalidRequest(
            N_("Please give start and end both with or both without a UTC offset."),
            "end",
            code="offset_mismatch",
        )
    check_span(cmd.start, cmd.end)
    cmd = _checked_offer(cmd)
    key = cmd.submission_key
    if key is not None and not (0 < len(key) <= SUBMISSION_KEY_MAX):
        raise InvalidRequest(
            N_("The submission key must have between 1 and %(max)d characters."),
            "submission_key",
            code="submission_key_invalid",
            max=SUBMISSION_KEY_MAX,
        )
    return cmd


def _checked_offer(cmd: BookingCommand) -> BookingCommand:
    """The offer's details checked against their lists; languages once each, in the order
    given."""
    for field, kinds in (("offer_category", OfferCategory), ("offer_audience", OfferAudience)):
        value = getattr(cmd, field)
        if value is not None and value not in {k.value for k in kinds}:
            raise InvalidRequest(
                N_("Please choose one from the list."), field, code="not_in_list", value=value
            )
    languages = tuple(dict.fromkeys(cmd.offer_languages))
    unknown = [code for code in languages if code not in SPOKEN_LANGUAGES]
    if unknown:
        raise InvalidRequest(
            N_("Please choose languages from the list."),
            "offer_languages",
            code="not_in_list",
            value=", ".join(unknown),
        )
    return dataclasses.replace(cmd, offer_languages=languages)


def initial_status(user: User, room: Room, organisation: Organisation | None) -> OccurrenceStatus:
    """Approved straight away for the site's managers and by the room's policy, else pending."""
    if permissions.can_manage_site(user, room.site_id):
        return OccurrenceStatus.APPROVED
    if room.approval_policy is ApprovalPolicy.AUTOMATIC:
        return OccurrenceStatus.APPROVED
    if (
        room.approval_policy is ApprovalPolicy.TRUSTED
        and organisation is not None
        and organisation.trusted
    ):
        return OccurrenceStatus.APPROVED
    return OccurrenceStatus.PENDING


def _load_organisation(user: User, organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidRequest(
            N_("There is no such organisation."), "organisation_id", code="organisation_unknown"
        )
    if not user.is_admin and not permissions.is_member(user, organisation_id):
        raise NotPermitted(
            N_("You can only book for organisations you belong to."), code="not_a_member"
        )
    return organisation


def _expand(cmd: BookingCommand, room: Room) -> tuple[domain.Expansion, RoomContext]:
    """The command's dates and the room's context for them; closures are skipped if asked."""
    zone = ZoneInfo(room.site.timezone)
    start, end = local_naive(cmd.start, zone), local_naive(cmd.end, zone)
    try:
        expansion = domain.expand(start, end, zone, cmd.recurrence)
        context = load_context(room.id, expansion.slots)
        if cmd.recurrence is not None and cmd.recurrence.skip_closures and expansion.slots:
            expansion = domain.expand(start, end, zone, cmd.recurrence, closures=context.closures)
    except domain.RecurrenceError as exc:
        raise recurrence_problem(exc, f"recurrence.{exc.field}") from exc
    if not expansion.slots:
        raise InvalidRequest(
            N_("The repetition gives no dates at all."), "recurrence", code="no_dates"
        )
    for earlier, later in itertools.pairwise(expansion.slots):
        if earlier.overlaps(later):
            raise InvalidRequest(
                N_("The dates of the series would overlap each other."),
                "end",
                code="series_overlaps",
            )
    return expansion, context


def plan_booking(user, cmd: BookingCommand, *, now: datetime | None = None) -> BookingPlan:
    """What a preview shows: each date, whether it can be booked and why not. Writes nothing."""
    user = permissions.require_user(user)
    return _plan(user, validate_command(cmd), now)


def _plan(user: User, cmd: BookingCommand, now: datetime | None) -> BookingPlan:
    room = active_room(cmd.room_id)
    organisation = _load_organisation(user, cmd.organisation_id)
    expansion, context = _expand(cmd, room)
    dates = context.check(expansion.slots, now=now_or(now), attendees=cmd.attendees)
    return BookingPlan(
        room=room,
        context=context,
        dates=tuple(dates),
        skipped=expansion.skipped,
        status=initial_status(user, room, organisation),
        organisation=organisation,
    )


def blocked_message(blocked: list[domain.DatePlan]) -> tuple[str, dict]:
    """The conflict message (and its parameters) for dates that cannot be booked."""
    if len(blocked) == 1:
        reasons = ", ".join(blocked[0].reasons)
        return N_("1 date cannot be booked."), {"detail": f"1 date cannot be booked ({reasons})."}
    return N_("%(num)d dates cannot be booked."), {"num": len(blocked)}


def audit(
    action: str,
    actor: User | None,
    booking: Booking,
    occurrences=(),
    reason: str = "",
    **details,
) -> None:
    room = booking.room
    audit_trail.record(
        action,
        actor,
        booking_id=booking.id,
        room_id=room.id,
        site_id=room.site_id,
        organisation_id=booking.organisation_id,
        occurrence_ids=[o.id for o in occurrences],
        reason=reason,
        **details,
    )


@dataclass(frozen=True)
class Submission:
    """The answer to a booking submission: the booking, and whether an earlier submission with
    the same key made it (``replayed``) rather than this one."""

    booking: Booking
    replayed: bool = False


def request_booking(user, cmd: BookingCommand, *, now: datetime | None = None) -> Booking:
    """Write a booking and its dates atomically, or raise and write nothing.

    With ``cmd.submission_key``: the booking an earlier submission with that key made, if any
    (see ``submit_booking``)."""
    return submit_booking(user, cmd, now=now).booking


def submit_booking(user, cmd: BookingCommand, *, now: datetime | None = None) -> Submission:
    """``request_booking``, idempotent by ``cmd.submission_key``.

    A repeat of a submission (a double tap, Back and "Book" again, a client retrying after a
    lost answer, two requests at the same moment) answers with the booking the first one made
    and writes nothing. The same key with a different request, or someone else's key, is an
    ``InvalidRequest`` (code ``idempotency_key_reused``) that tells nothing about that booking.

    SQLite: the write lock (``begin_write``) comes before the look-up, so a repeat waits for
    the first submission's commit and finds its booking. PostgreSQL: two submissions may both
    miss it; the unique key stops the second one's insert (or the first one's dates, once
    committed, make it a conflict), and the look-up after that refusal finds the first booking.
    """
    user = permissions.require_user(user)
    cmd = validate_command(cmd)  # never-valid input is refused before any lock or conflict check
    begin_write()
    if cmd.submission_key is None:
        return Submission(_write_booking(user, cmd, now))
    first = _first_submission(user, cmd)
    if first is not None:
        return Submission(first, replayed=True)
    try:
        return Submission(_write_booking(user, cmd, now))
    except IntegrityError as exc:
        if not _is_duplicate_submission(exc):
            raise
        first = _first_submission(user, cmd)
        if first is None:
            raise
        return Submission(first, replayed=True)
    except Conflict:
        first = _first_submission(user, cmd)
        if first is None:
            raise
        return Submission(first, replayed=True)


def _first_submission(user: User, cmd: BookingCommand) -> Booking | None:
    """The booking made by an earlier submission with the command's key, if any."""
    booking = db.session.scalar(select(Booking).where(Booking.submission_key == cmd.submission_key))
    if booking is None:
        return None
    if booking.requested_by_id != user.id or booking.submission_digest != cmd.digest():
        raise InvalidRequest(
            N_("This key was already used for a different request. Send it with a new key."),
            "submission_key",
            code="idempotency_key_reused",
        )
    return booking


def _is_duplicate_submission(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return "uq_booking_submission_key" in text or "booking.submission_key" in text


def _write_booking(user: User, cmd: BookingCommand, now: datetime | None) -> Booking:
    plan = _plan(user, cmd, now)
    room = plan.room
    if room.house_rules.strip() and not cmd.house_rules_accepted:
        raise InvalidRequest(
            N_("Please confirm that you will keep the house rules."),
            "house_rules_accepted",
            code="house_rules_not_accepted",
        )
    blocked = plan.blocked
    if blocked and (not cmd.book_free_dates_only or not plan.bookable):
        message, params = blocked_message(blocked)
        raise Conflict(message, plan.dates, plan=plan, **params)

    recurrence = cmd.recurrence
    decided = plan.status is OccurrenceStatus.APPROVED
    with occupancy.guarded(N_("Someone else booked this time a moment ago."), plan.dates):
        booking = Booking(
            room=room,
            organisation=plan.organisation,
            requested_by=user,
            title=cmd.title.strip(),
            description=(cmd.description or "").strip(),
            attendees=cmd.attendees,
            is_public=cmd.is_public,
            offer_category=OfferCategory(cmd.offer_category) if cmd.offer_category else None,
            offer_audience=OfferAudience(cmd.offer_audience) if cmd.offer_audience else None,
            offer_languages=list(cmd.offer_languages),
            free_of_charge=cmd.free_of_charge,
            drop_in=cmd.drop_in,
            rrule=recurrence.to_rrule() if recurrence else None,
            exdates=sorted(d.isoformat() for d in recurrence.exdates) if recurrence else [],
            skip_closures=bool(recurrence and recurrence.skip_closures),
            house_rules_accepted_at=now_or(now) if cmd.house_rules_accepted else None,
            submission_key=cmd.submission_key,
            submission_digest=cmd.digest() if cmd.submission_key is not None else None,
        )
        db.session.add(booking)
        db.session.flush()
        # The dates in one INSERT … RETURNING of all the rows (SQLAlchemy's "insertmanyvalues":
        # one statement for a 52-week series on both databases), ordered here: neither database
        # promises RETURNING rows in the order of the parameters.
        occurrences = sorted(
            db.session.scalars(
                insert(Occurrence).returning(Occurrence),
                [
                    {
                        "booking_id": booking.id,
                        "room_id": room.id,
                        "starts_at": d.slot.starts_at,
                        "ends_at": d.slot.ends_at,
                        "status": plan.status,
                        "decided_by_id": user.id if decided else None,
                        "decided_at": now_or(now) if decided else None,
                    }
                    for d in plan.bookable
                ],
            ),
            key=lambda o: (o.starts_at, o.id),
        )
        set_committed_value(booking, "occurrences", occurrences)
        audit(
            "requested",
            user,
            booking,
            occurrences,
            status=plan.status.value,
            left_out=[d.local_start.isoformat() for d in blocked],
        )
        if decided:
            occupancy.occupy(occurrences, plan.context.units, plan.context.rules)
        notify_booking_received(booking)
        notify_new_request(booking)
    return booking
