"""Calendar feeds (iCalendar): rooms, sites, public offers, personal and per-booking feeds."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("feeds", __name__)


def init_feeds(app: Flask) -> None:
    """What the feeds need beyond their routes: the log filter that keeps personal feed tokens
    out of the logs (the change tracking behind the validators is part of the models:
    ``booking.models.feed_changes``)."""
    from booking.feeds.logs import install_log_filter

    install_log_filter(app.logger.name)


from booking.feeds import views  # noqa: E402, F401  (routes)
