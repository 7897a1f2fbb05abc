"""The pure scheduling core: slots, recurrence, booking rules and availability.

Imports only the standard library and dateutil, so it can be tested and reused without Flask
or a database.
"""

from booking.domain.availability import (
    RoomAvailability,
    all_free,
    free_intervals,
    free_rooms,
    is_free,
)
from booking.domain.plans import DatePlan, plan_dates, within_time_rules
from booking.domain.recurrence import (
    Expansion,
    Frequency,
    Limits,
    Recurrence,
    RecurrenceError,
    Skipped,
    expand,
)
from booking.domain.rules import (
    ALWAYS_OPEN_WEEK,
    Busy,
    Closure,
    DatedHours,
    OpeningHours,
    Problem,
    Reason,
    RoomRules,
    WeeklyWindow,
    check,
    describe,
    find_overlaps,
)
from booking.domain.slots import Slot, from_local, merge, subtract, to_local
from booking.domain.tree import RoomTree

__all__ = [
    "ALWAYS_OPEN_WEEK",
    "Busy",
    "Closure",
    "DatePlan",
    "DatedHours",
    "Expansion",
    "Frequency",
    "Limits",
    "OpeningHours",
    "Problem",
    "Reason",
    "Recurrence",
    "RecurrenceError",
    "RoomAvailability",
    "RoomRules",
    "RoomTree",
    "Skipped",
    "Slot",
    "WeeklyWindow",
    "all_free",
    "check",
    "describe",
    "expand",
    "find_overlaps",
    "free_intervals",
    "free_rooms",
    "from_local",
    "is_free",
    "merge",
    "plan_dates",
    "subtract",
    "to_local",
    "within_time_rules",
]
