"""The ``admin`` blueprint: sites, rooms, opening hours, closures, people, organisations, the
room import and the audit history, for administrators and (where it says so) the sites'
managers."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The modules register their routes on ``bp``.
from booking.web.admin import (  # noqa: E402, F401
    audit,
    closures,
    exceptions,
    features,
    imports,
    people,
    views,
)
