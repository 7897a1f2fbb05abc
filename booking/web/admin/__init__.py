"""The ``admin`` blueprint: sites and rooms for administrators and the sites' managers."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from booking.web.admin import views  # noqa: E402, F401  (routes)
