"""What every request is checked for before a view sees it, so that hostile input gets a 404 or
a 400 instead of a database error (#13): ids beyond the database's integer range, NUL characters,
page numbers that are no page numbers, dates no booking can have."""

from __future__ import annotations

from datetime import date

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, Map, ValidationError

# Identifiers are 32-bit integers in the database (api/schemas.py uses the same bound); a larger
# number can never name anything, and a query with it fails (OverflowError on SQLite, "out of
# range" on PostgreSQL) instead of finding nothing.
MAX_ID = 2_147_483_647
# Lists are far shorter; a larger page number would only make the offset overflow.
PAGE_MAX = 100_000
# The years a date may lie in, as the API allows for times (api/schemas.py): no booking lies
# further away, and the calendar's edges overflow when neighbour days and zones are worked out.
FIRST_YEAR, LAST_YEAR = 1900, 2200
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)


class DatabaseIdConverter(IntegerConverter):
    """The ``int`` of every route: only numbers a database id can be match, so a larger one is
    a 404 like any id that names nothing, on the pages, the feeds and the API alike."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str):
        # Not even parsed: Python refuses to read integers of more than 4300 digits.
        if len(value.lstrip("-").lstrip("0")) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)


def _refuse_nul() -> None:
    """PostgreSQL text cannot hold NUL, and no person types one: refuse it in the path (404:
    nothing is called that), the query string and form fields (400) before any view stores or
    looks it up. The API checks its own input and names the field (422)."""
    if "\x00" in request.path:
        abort(404)
    if request.path.startswith("/api/"):
        return
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, description=_("The input contains a NUL character; please remove it."))


def page_number(name: str = "page") -> int:
    """The page of a list from the query string: anything but a plain number is the first
    page; a huge number is clamped (the lists show their last page or an empty one)."""
    text = request.args.get(name, "")
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > len(str(PAGE_MAX)):
        return PAGE_MAX
    return min(max(1, int(text)), PAGE_MAX)


def query_id(name: str) -> int | None:
    """An id from the query string (None: none given or no number); an id beyond the database's
    range is 0, which names nothing, just as it does in a path."""
    text = request.args.get(name, "")
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
        return 0
    return int(digits)


def query_date(name: str) -> date | None:
    """A date filter from the query string (None: none given, or no date); one beyond the
    years bookings can lie in is moved to the nearest of them, so "from 0001-01-01 to
    9999-12-31" means "everything" instead of overflowing."""
    try:
        day = date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None
    return min(max(day, FIRST_DAY), LAST_DAY)


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered: their rules bind the converter then."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(_refuse_nul)
