"""Server-rendered HTML pages.

This package is the ``web`` blueprint: the public pages (search, rooms, booking, my bookings),
the managers' pages and the API's HTML documentation. The sub-packages are blueprints of their
own (``accounts``, ``organisations``); ``forms``, ``helpers`` and ``i18n`` serve them all.
"""

from flask import Blueprint

bp = Blueprint("web", __name__)

# The route modules register their views on ``bp``; helpers adds the pages' template helpers.
from booking.web import (  # noqa: E402, F401
    api_docs,
    book,
    directory,
    helpers,
    home,
    manage,
    manage_bookings,
    manage_history,
    my,
    photos,
    plans,
    rooms,
)
