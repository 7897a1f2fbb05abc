"""Home page and room search."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.errors import error_text
from booking.extensions import db
from booking.models import Room, Site
from booking.services import queries, school_calendar, suggestions
from booking.services.errors import InvalidRequest
from booking.services.search import RoomQuery, search_rooms, search_weekly
from booking.web import bp
from booking.web.forms import (
    WEEKLY_UNTIL_DATE,
    WEEKLY_UNTIL_HALF_YEAR,
    WEEKLY_UNTIL_SUMMER,
    SearchForm,
    choices,
)
from booking.web.helpers import city_zone, local_today

# Search field names in RoomQuery/InvalidRequest -> form fields ("weekly_until": see below).
_QUERY_FIELDS = {
    "start": "start",
    "end": "end",
    "weekly_until": "weeks",
    "weekly_end": "weekly_end",
}


def _first_weekday(weekday: int, today: date) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def query_from_form(form: SearchForm, today: date) -> RoomQuery:
    """The one place where the search form becomes a ``RoomQuery``."""
    if form.mode.data == "weekly":
        first = _first_weekday(int(form.weekday.data), today)
        weekly_until = _weekly_until(form, first)
    else:
        first, weekly_until = form.date.data, None
    return RoomQuery(
        start=datetime.combine(first, form.start.data),
        end=datetime.combine(first, form.end.data),
        min_capacity=form.people.data,
        features=tuple(form.features.data or ()),
        district=form.district.data or None,
        step_free=bool(form.step_free.data),
        weekly_until=weekly_until,
        skip_closures=bool(form.skip_closures.data),
    )


def _weekly_until(form: SearchForm, first: date) -> date:
    """The last possible date of a weekly search, as the form asks for it: a number of weeks,
    a date, or the summer holidays or the end of the school half-year (``school_calendar``)."""
    if form.weekly_end.data == WEEKLY_UNTIL_DATE:
        return form.until.data
    if form.weekly_end.data == WEEKLY_UNTIL_SUMMER:
        return school_calendar.until_summer_holidays(first, field="weekly_end")
    if form.weekly_end.data == WEEKLY_UNTIL_HALF_YEAR:
        return school_calendar.end_of_half_year(first, field="weekly_end")
    return first + timedelta(weeks=(form.weeks.data or 1) - 1)


def book_link_args(query: RoomQuery) -> dict:
    """Query arguments that carry a search over to the booking form."""
    args = {
        "date": query.start.date().isoformat(),
        "start": query.start.strftime("%H:%M"),
        "end": query.end.strftime("%H:%M"),
    }
    if query.min_capacity:
        args["people"] = query.min_capacity
    if query.weekly_until:
        args["repeat"] = "weekly"
        args["until"] = query.weekly_until.isoformat()
        if not query.skip_closures:
            args["skip_closures"] = "0"
    return args


@bp.get("/")
def home():
    form = SearchForm(request.args)
    form.district.choices = choices(
        [("", _("All districts"))] + [(d, d) for d in queries.districts()]
    )
    searched = "start" in request.args
    matches, partial, other_times, similar, query = [], [], [], [], None
    status = 200
    if "weekly_end" not in request.args:
        # Not sent from this form (the first visit, an older link): skipping closures is the
        # default. From the form, a missing box means it was unticked.
        form.skip_closures.data = True
    if searched:
        today = local_today()
        valid = form.validate_shape()
        if form.mode.data == "date" and form.date.data and form.date.data < today:
            form.date.errors.append(_("Please choose a date from today on."))
            valid = False
        if valid:
            try:
                query = query_from_form(form, today)
                if query.weekly_until is not None:
                    found = search_weekly(query, zone=city_zone())
                    matches, partial = found.matches, found.partial
                else:
                    matches = search_rooms(query, zone=city_zone())
            except InvalidRequest as exc:
                name = _QUERY_FIELDS.get(exc.field or "", "end")
                if exc.field == "weekly_until" and form.weekly_end.data == WEEKLY_UNTIL_DATE:
                    name = "until"
                getattr(form, name).errors.append(error_text(exc))
                query = None
            if query is not None and not matches:
                other_times = suggestions.other_times(query, zone=city_zone())
                similar = suggestions.similar_rooms(query, zone=city_zone())
        if form.errors or any(f.errors for f in form):
            status = 422
    sites = db.session.scalars(
        select(Site)
        .where(Site.active)
        .options(selectinload(Site.rooms).selectinload(Room.feature_rows))
        .order_by(Site.district, Site.name)
    ).all()
    return (
        render_template(
            "home.html",
            form=form,
            searched=searched,
            query=query,
            matches=matches,
            partial=partial,
            other_times=other_times,
            similar=similar,
            sites=sites,
            book_args=book_link_args(query) if query else {},
        ),
        status,
    )
