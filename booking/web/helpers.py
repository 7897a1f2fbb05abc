"""Small presentation helpers shared by the public pages: friendly texts and local times."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import current_app, g
from flask_babel import gettext as _

from booking import domain
from booking.models import OccurrenceStatus
from booking.services import catalogue
from booking.web import bp
from booking.web.forms import reader_language
from booking.web.i18n import format_locale


def reason_text(problem: domain.Problem) -> str:
    """Why a date cannot be booked, in words a requester understands."""
    reason = problem.reason
    if reason is domain.Reason.TAKEN:
        return _("Already booked at this time")
    if reason is domain.Reason.CLOSED:
        if problem.label:
            return _("The room is closed (%(why)s)", why=problem.label)
        return _("The room is closed")
    if reason is domain.Reason.OUTSIDE_OPENING_HOURS:
        return _("Outside the opening hours")
    if reason is domain.Reason.TOO_SHORT_NOTICE:
        return _("Too short notice for this room")
    if reason is domain.Reason.TOO_FAR_AHEAD:
        return _("Too far ahead: this room cannot be booked that early")
    if reason is domain.Reason.IN_PAST:
        return _("This time is in the past")
    if reason is domain.Reason.TOO_SHORT:
        return _("Shorter than this room allows")
    if reason is domain.Reason.TOO_LONG:
        return _("Longer than this room allows")
    if reason is domain.Reason.OVER_CAPACITY:
        return _("Too many people for this room")
    return problem.message


def status_text(status: OccurrenceStatus) -> str:
    return {
        OccurrenceStatus.PENDING: _("waiting for approval"),
        OccurrenceStatus.APPROVED: _("approved"),
        OccurrenceStatus.DECLINED: _("declined"),
        OccurrenceStatus.CANCELLED: _("cancelled"),
    }[OccurrenceStatus(status)]


def skipped_text(skipped: domain.Skipped) -> str:
    if skipped.closure is not None and skipped.closure.reason:
        return _("Skipped: closed (%(why)s)", why=skipped.closure.reason)
    if skipped.reason == "closed":
        return _("Skipped: closed")
    return _("Skipped")


def _catalogue() -> catalogue.Catalogue:
    found = g.get("feature_catalogue")
    if found is None:  # once per request: a page may name hundreds of features
        found = g.feature_catalogue = catalogue.current()
    return found


def feature_label(key) -> str:
    """A feature's label in the reader's language (German, else English); the key for one
    that is not in the list."""
    return _catalogue().feature_label(str(key), reader_language())


def features_in_order(keys) -> list[str]:
    """Feature keys in the order administrators gave the list (position, then key)."""
    order = {key: n for n, key in enumerate(_catalogue().features)}
    return sorted((str(k) for k in keys), key=lambda k: (order.get(k, len(order)), k))


def city_zone() -> ZoneInfo:
    """The city's time zone (``BOOKING_TIMEZONE``): how a time typed without a site is read."""
    return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])


def local_today() -> date:
    """Today in the city's time zone (the server's clock may run in UTC)."""
    return datetime.now(city_zone()).date()


def local(value: datetime, zone: ZoneInfo | str) -> datetime:
    """A stored UTC time as naive wall time in the site's zone."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return domain.to_local(value, tz).replace(tzinfo=None)


def fmt_date(value: date | datetime, form: str = "full") -> str:
    """A date in the user's language; naive values are shown as they are (wall time)."""
    if isinstance(value, datetime):
        value = value.date()
    return babel_dates.format_date(value, format=form, locale=format_locale())


def fmt_time(value: time | datetime) -> str:
    if isinstance(value, datetime):
        value = value.time()
    return babel_dates.format_time(value, format="short", locale=format_locale())


def fmt_weekday(value: date) -> str:
    return babel_dates.format_date(value, format="EEEE", locale=format_locale())


@bp.context_processor
def _inject_helpers() -> dict:
    return {
        "reason_text": reason_text,
        "status_text": status_text,
        "skipped_text": skipped_text,
        "feature_label": feature_label,
        "features_in_order": features_in_order,
        "local": local,
        "fmt_date": fmt_date,
        "fmt_time": fmt_time,
        "fmt_weekday": fmt_weekday,
    }
