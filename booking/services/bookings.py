"""The booking verbs in one place for the surfaces: request, approve, decline, cancel, change.

Each lives in the module that owns its part of the work (``requests``, ``decisions``,
``changes``; occupancy writing in ``occupancy``; who may see what in ``visibility``). Each
checks permission, asks the pure scheduling core, writes models and flushes; the surface around
it commits once (``booking.unit_of_work``).
"""

from __future__ import annotations

from booking.services.changes import (
    ChangePlan,
    change_series,
    move_occurrence,
    plan_move,
    plan_series_change,
)
from booking.services.decisions import (
    Decision,
    approve,
    approve_and_decline_rivals,
    cancel,
    decline,
    rivals_to_decline,
)
from booking.services.requests import (
    ACTIVE,
    ATTENDEES_MAX,
    DESCRIPTION_MAX,
    LONGEST_DATE,
    REASON_MAX,
    TITLE_MAX,
    BookingCommand,
    BookingPlan,
    Submission,
    initial_status,
    plan_booking,
    request_booking,
    submit_booking,
    validate_command,
)
from booking.services.visibility import get_booking

__all__ = [
    "ACTIVE",
    "ATTENDEES_MAX",
    "DESCRIPTION_MAX",
    "LONGEST_DATE",
    "REASON_MAX",
    "TITLE_MAX",
    "BookingCommand",
    "BookingPlan",
    "ChangePlan",
    "Decision",
    "Submission",
    "approve",
    "approve_and_decline_rivals",
    "cancel",
    "change_series",
    "decline",
    "get_booking",
    "initial_status",
    "move_occurrence",
    "plan_booking",
    "plan_move",
    "plan_series_change",
    "request_booking",
    "rivals_to_decline",
    "submit_booking",
    "validate_command",
]
