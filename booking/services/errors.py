"""Errors that services raise and every surface (HTML, JSON API, CLI) turns into its own answer.

Each error carries:

- ``code``: stable and machine-readable (the API's problem ``code``; tests and views may rely on
  it). Each kind of error has a default (``not_found``, ``conflict``, ...); a raise site names a
  more precise one where a client can act on the difference.
- ``message``: an English text marked with ``N_`` for translation, with ``%(name)s``
  placeholders filled from ``params``. ``text`` is the English sentence (API, CLI, logs); the web
  surface shows ``gettext(message, **params)`` in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from booking.domain import DatePlan
    from booking.services.requests import BookingPlan


def N_(message: str) -> str:
    """Mark a message for translation (``pybabel extract -k N_``) without translating it here."""
    return message


class ServiceError(Exception):
    """Base class. See the module docstring for ``code``, ``message`` and ``params``."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        self.message = message
        self.params = params
        if code is not None:
            self.code = code
        super().__init__(self.text)

    @property
    def text(self) -> str:
        """The message in English with its placeholders filled in."""
        return self.message % self.params if self.params else self.message


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

    def __init__(
        self, message: str, field: str | None = None, *, code: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, code=code, **params)
        self.field = field


class InvalidTransition(ServiceError):
    """A status change that is not allowed (approving a cancelled date, cancelling a past one)."""

    code = "invalid_transition"
    status = 409


class Conflict(ServiceError):
    """Some dates cannot be booked. ``dates`` lists every date with its problems; ``plan`` is the
    whole checked request where there was one, so a form can show it again without re-planning.
    """

    code = "conflict"
    status = 409

    def __init__(
        self,
        message: str,
        dates: Sequence[DatePlan] = (),
        *,
        plan: BookingPlan | None = None,
        code: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message, code=code, **params)
        self.dates = list(dates)
        self.plan = plan

    @property
    def blocked(self) -> list[DatePlan]:
        return [d for d in self.dates if d.problems]
