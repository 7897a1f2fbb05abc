"""Calendar feeds (iCalendar): rooms, sites, public offers, personal and per-booking feeds."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("feeds", __name__)


def init_feeds(app: Flask) -> None:
    """Register the routes and the log filter (the change tracking behind the validators is
    part of the models: ``booking.models.feed_changes``)."""
    from booking.feeds import views  # noqa: F401  (routes)
    from booking.feeds.logs import install_log_filter

    install_log_filter(app.logger.name)
    app.register_blueprint(bp)
