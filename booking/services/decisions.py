"""Answering dates: approve, decline and cancel share one path.

Each takes the acting user, the booking and (optionally) which of its dates, checks that the
user may, changes the dates' status, writes the audit row and the requester's mail, and frees or
takes the room's time, all inside one savepoint (``occupancy.guarded``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from booking import domain
from booking.database import begin_write
from booking.models import Booking, Occurrence, OccurrenceStatus, User
from booking.services import manage, occupancy, permissions
from booking.services.errors import (
    N_,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotPermitted,
)
from booking.services.notifications import notify_booking_changed, notify_dates_cancelled
from booking.services.requests import ACTIVE, REASON_MAX, audit, blocked_message, now_or
from booking.services.room_context import load_context
from booking.services.visibility import get_booking

# What the other requesters are told when their time goes to someone else, unless the manager
# writes something else (the API's default; the web form offers the same text to edit).
RIVAL_REASON = N_("Another group was given this time.")


def targets(
    booking: Booking,
    occurrence_ids: Sequence[int] | None,
    allowed: tuple[OccurrenceStatus, ...],
    now: datetime,
) -> list[Occurrence]:
    """The dates a decision applies to: the chosen ones (each must allow it), else every
    upcoming date in an ``allowed`` status."""
    if occurrence_ids:
        wanted = set(occurrence_ids)
        chosen = [o for o in booking.occurrences if o.id in wanted]
        unknown = wanted - {o.id for o in chosen}
        if unknown:
            raise InvalidRequest(
                N_("Some of the chosen dates do not belong to this booking."),
                "occurrence_ids",
                code="unknown_dates",
                detail=f"These dates do not belong to the booking: {sorted(unknown)}.",
            )
        for occ in chosen:
            if occ.status not in allowed:
                raise InvalidTransition(
                    N_("One of the chosen dates cannot be changed this way any more."),
                    detail=f"A {occ.status.value} date cannot be changed this way.",
                )
            if occ.ends_at <= now:
                raise InvalidTransition(N_("A date that is over cannot be changed."))
        return chosen
    chosen = [o for o in booking.occurrences if o.status in allowed and o.ends_at > now]
    if not chosen:
        raise InvalidTransition(N_("No date of this booking can be changed this way."))
    return chosen


def clean_reason(reason: str, *, required: bool, field: str) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidRequest(N_("Please tell the requester why."), field, code="reason_missing")
    if len(reason) > REASON_MAX:
        raise InvalidRequest(
            N_("The text may have at most %(max)d characters."),
            field,
            code="reason_too_long",
            max=REASON_MAX,
        )
    return reason


def _decide(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None,
    *,
    status: OccurrenceStatus,
    allowed: tuple[OccurrenceStatus, ...],
    may: Callable[[User, Booking], bool],
    refused: str,
    reason: str,
    now: datetime | None,
) -> Booking:
    """The one path of approve, decline and cancel (see the module docstring)."""
    user = permissions.require_user(user)
    now = now_or(now)
    booking = get_booking(user, booking_id, for_update=True)
    if not may(user, booking):
        raise NotPermitted(refused)
    chosen = targets(booking, occurrence_ids, allowed, now)
    occupy: list[Occurrence] = []
    plans: list[domain.DatePlan] = []
    context = None
    if status is OccurrenceStatus.APPROVED:
        slots = [domain.Slot(o.starts_at, o.ends_at) for o in chosen]
        context = load_context(booking.room_id, slots)
        # A manager may approve outside the time rules (short notice, long dates): they are the
        # requester's limits. What is taken or closed can never be approved.
        plans = context.check(slots, now=now, check_time_rules=False)
        blocking = {domain.Reason.TAKEN, domain.Reason.CLOSED}
        clashes = [p for p in plans if any(x.reason in blocking for x in p.problems)]
        if clashes:
            message, params = blocked_message(clashes)
            raise Conflict(message, plans, **params)
        occupy = chosen
    with occupancy.guarded(N_("Another booking was approved for this time a moment ago."), plans):
        if status is not OccurrenceStatus.APPROVED:
            occupancy.release([o.id for o in chosen])
        for occ in chosen:
            occ.status = status
            occ.status_reason = reason
            occ.decided_by = user
            occ.decided_at = now
            occ.sequence += 1
        audit(status_action(status), user, booking, chosen, reason)
        if context is not None:
            occupancy.occupy(occupy, context.units, context.rules)
        notify_booking_changed(booking, chosen, user, now=now)
        if status is OccurrenceStatus.CANCELLED:
            notify_dates_cancelled(booking, chosen, user)
    return booking


def status_action(status: OccurrenceStatus) -> str:
    return {
        OccurrenceStatus.APPROVED: "approved",
        OccurrenceStatus.DECLINED: "declined",
        OccurrenceStatus.CANCELLED: "cancelled",
    }[status]


def _manages(user: User, booking: Booking) -> bool:
    return permissions.can_manage_site(user, booking.room.site_id)


def approve(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None = None,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> Booking:
    """Approve the chosen pending dates (or all): only what is neither taken nor closed."""
    comment = clean_reason(comment, required=False, field="comment")
    return _decide(
        user,
        booking_id,
        occurrence_ids,
        status=OccurrenceStatus.APPROVED,
        allowed=(OccurrenceStatus.PENDING,),
        may=_manages,
        refused=N_("Only the managers of this site can approve bookings."),
        reason=comment,
        now=now,
    )


def decline(
    user,
    booking_id: int,
    reason: str,
    occurrence_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> Booking:
    """Decline the chosen upcoming dates (or all), with a reason the requester is told."""
    reason = clean_reason(reason, required=True, field="reason")
    return _decide(
        user,
        booking_id,
        occurrence_ids,
        status=OccurrenceStatus.DECLINED,
        allowed=ACTIVE,
        may=_manages,
        refused=N_("Only the managers of this site can decline bookings."),
        reason=reason,
        now=now,
    )


def cancel(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None = None,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Booking:
    """Cancel the chosen upcoming dates (or all): the requester's side or the site's managers."""
    reason = clean_reason(reason, required=False, field="reason")
    return _decide(
        user,
        booking_id,
        occurrence_ids,
        status=OccurrenceStatus.CANCELLED,
        allowed=ACTIVE,
        may=permissions.can_cancel,
        refused=N_("You cannot cancel this booking."),
        reason=reason,
        now=now,
    )


@dataclass(frozen=True)
class Decision:
    """What one approval did: the approved booking and the rival dates it declined."""

    booking: Booking
    declined_rivals: tuple[Occurrence, ...]


def rivals_to_decline(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> list[Occurrence]:
    """The other groups' pending dates that approving these dates would decline (only at
    sites ``user`` manages)."""
    user = permissions.require_user(user)
    now = now_or(now)
    booking = get_booking(user, booking_id)
    if not _manages(user, booking):
        raise NotPermitted(N_("Only the managers of this site can approve bookings."))
    chosen = targets(booking, occurrence_ids, (OccurrenceStatus.PENDING,), now)
    return manage.pending_rivals(user, chosen, now=now)


def approve_and_decline_rivals(
    user,
    booking_id: int,
    occurrence_ids: Sequence[int] | None = None,
    comment: str = "",
    rival_reason: str = "",
    *,
    now: datetime | None = None,
) -> Decision:
    """Approve the chosen dates and, in the same step, decline the other groups' pending dates
    that want the same room parts at an overlapping time, telling each requester
    ``rival_reason``. All or nothing: if the approval is refused, no rival is declined.
    Only rivals at sites ``user`` manages are touched."""
    user = permissions.require_user(user)
    now = now_or(now)
    comment = clean_reason(comment, required=False, field="comment")
    begin_write()  # SQLite: the write lock before anything is read (and before the savepoint)
    rivals = rivals_to_decline(user, booking_id, occurrence_ids, now=now)
    rival_reason = clean_reason(rival_reason, required=bool(rivals), field="rival_reason")
    by_booking: dict[int, list[int]] = defaultdict(list)
    for rival in rivals:
        by_booking[rival.booking_id].append(rival.id)
    with occupancy.guarded(N_("Another booking was approved for this time a moment ago.")):
        booking = approve(user, booking_id, occurrence_ids, comment, now=now)
        for rival_booking_id, rival_ids in by_booking.items():
            decline(user, rival_booking_id, rival_reason, rival_ids, now=now)
    return Decision(booking, tuple(rivals))
