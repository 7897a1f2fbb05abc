"""Server-rendered HTML pages."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from booking.web import manage, views  # noqa: E402, F401
