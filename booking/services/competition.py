"""Competing requests: how many other requests wait for the times a requester asks for.

The preview tells a volunteer, per date, how many requests of others are waiting for approval
for an overlapping time in the same room, in the whole it belongs to or in one of its parts
(the requests a manager would have to decline to approve this one), so they can pick another
time. Only counts leave this module: never who asked, nor for what.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from booking import domain
from booking.extensions import db
from booking.models import Booking, Occurrence, OccurrenceStatus
from booking.services.requests import BookingPlan


def waiting_counts(plan: BookingPlan, user) -> tuple[int, ...]:
    """For each date of ``plan`` (in order), the number of other people's requests waiting
    for approval whose dates overlap it, the room's buffers included, in the room or in a room
    sharing a part with it. One statement for all the dates."""
    slots = [d.slot for d in plan.dates]
    if not slots:
        return ()
    context = plan.context
    rules = context.rules
    padded = [s.padded(rules.buffer_before, rules.buffer_after) for s in slots]
    rows = _pending(
        context.tree.related(context.room_id),
        domain.Slot(min(p.starts_at for p in padded), max(p.ends_at for p in padded)),
        user_id=getattr(user, "id", None),
    )
    if not rows:
        return tuple(0 for _ in slots)
    busy = [domain.Busy(domain.Slot(start, end), ref=booking_id) for start, end, booking_id in rows]
    return tuple(len({b.ref for b in hits}) for hits in domain.find_overlaps(padded, busy))


def _pending(room_ids: Sequence[int], window: domain.Slot, *, user_id: int | None) -> list:
    stmt = (
        select(Occurrence.starts_at, Occurrence.ends_at, Occurrence.booking_id)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(
            Occurrence.room_id.in_(sorted(set(room_ids))),
            Occurrence.status == OccurrenceStatus.PENDING,
            Occurrence.starts_at < window.ends_at,
            Occurrence.ends_at > window.starts_at,
        )
    )
    if user_id is not None:  # one's own requests are not competition
        stmt = stmt.where((Booking.requested_by_id != user_id) | Booking.requested_by_id.is_(None))
    return list(db.session.execute(stmt).all())
