"""The audit trail: one ``record`` for every change a service makes.

Each event names who acted (``actor``), what it is about (a booking, site, room, organisation or
person: the subject columns), the action (a stable snake_case word such as ``approved``,
``room_updated``, ``closure_created``, ``manager_assigned``), the reason a person gave and the
details of what changed. Events are written in the caller's transaction, so a change that is
rolled back leaves no event either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from booking.extensions import db
from booking.models import AuditEvent


def record(
    action: str,
    actor,
    *,
    booking_id: int | None = None,
    site_id: int | None = None,
    room_id: int | None = None,
    organisation_id: int | None = None,
    user_id: int | None = None,
    occurrence_ids: Iterable[int] = (),
    reason: str = "",
    **details: Any,
) -> AuditEvent:
    """Add one audit event to the session. ``details`` must be JSON-serialisable."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        booking_id=booking_id,
        site_id=site_id,
        room_id=room_id,
        organisation_id=organisation_id,
        user_id=user_id,
        occurrence_ids=list(occurrence_ids),
        reason=reason,
        details=details,
    )
    db.session.add(event)
    return event
