"""The ``organisations`` blueprint: create an organisation, see mine, add and remove members."""

from flask import Blueprint

bp = Blueprint("organisations", __name__, url_prefix="/organisations")

from booking.web.organisations import views  # noqa: E402, F401  (routes)
