"""Errors that services raise and every surface (HTML, JSON API, CLI) turns into its own answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from booking.services.bookings import DatePlan


class ServiceError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``message`` is plain English."""

    code = "error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class NotPermitted(ServiceError):
    code = "not_permitted"
    status = 403


class InvalidRequest(ServiceError):
    """Input that can never be valid, whatever else is booked. ``field`` names the culprit."""

    code = "invalid"
    status = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(ServiceError):
    """A status change that is not allowed (approving a cancelled date, cancelling a past one)."""

    code = "invalid_transition"
    status = 409


class Conflict(ServiceError):
    """Some dates cannot be booked. ``dates`` lists every date with its problems."""

    code = "conflict"
    status = 409

    def __init__(self, message: str, dates: list[DatePlan] | None = None) -> None:
        super().__init__(message)
        self.dates = dates or []
