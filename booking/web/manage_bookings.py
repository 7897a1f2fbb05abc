"""Facility managers: the approved bookings at their sites, to cancel, move or reschedule.

Every page here is for the site's managers (and administrators) only: the booking's parties
cancel and move through their own pages and the API. A move or a series change is checked
first and shown date by date (the same check the change itself makes); only what was shown is
written.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SubmitField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from booking.errors import error_text
from booking.input_guard import page_number, query_date
from booking.services import bookings as booking_service
from booking.services import manage
from booking.services.errors import Conflict, InvalidRequest, InvalidTransition, NotPermitted
from booking.web import bp
from booking.web.forms import field_error
from booking.web.helpers import city_zone, local

FILTERS = ("site", "room", "from", "to", "collisions", "page")


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Please tell the requester why.")),
            Length(max=booking_service.REASON_MAX),
        ],
        description=_l("The requester gets it by e-mail with the cancelled dates."),
    )
    submit = SubmitField(_l("Cancel the dates"))


class ChangeForm(FlaskForm):
    """What moving a date and changing a series share: new times, a room, a message, and the
    fingerprint of what was last checked."""

    start = TimeField(_l("New start"), validators=[InputRequired()])
    end = TimeField(_l("New end"), validators=[InputRequired()])
    room = SelectField(_l("Room"), coerce=int)
    reason = TextAreaField(
        _l("Message to the requester"),
        validators=[Optional(), Length(max=booking_service.REASON_MAX)],
        description=_l("Sent by e-mail with the new times."),
    )
    previewed = HiddenField()
    preview = SubmitField(_l("Check the new times"))
    confirm = SubmitField(_l("Make the change"))

    def validate_shape(self) -> bool:
        ok = self.validate()
        if self.start.data and self.end.data and self.end.data <= self.start.data:
            self.end.errors.append(_l("The end must be after the start."))
            ok = False
        return ok

    def fingerprint(self) -> str:
        """A digest of what decides the change: "Make the change" writes what was checked."""
        parts = [getattr(self, name).data for name in ("day", "start", "end", "room")]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class MoveForm(ChangeForm):
    day = DateField(_l("New date"), validators=[InputRequired()])


class SeriesForm(ChangeForm):
    day = DateField(
        _l("From"),
        validators=[InputRequired()],
        description=_l("Every upcoming date from this day on gets the new times."),
    )


def _filters() -> dict:
    """The list's filters from the query string, kept by the action links and forms."""
    return {k: v for k in FILTERS if (v := request.args.get(k, "").strip())}


def _back(booking_id: int | None = None) -> str:
    url = url_for("web.manage_bookings", **_filters())
    return url + (f"#booking-{booking_id}" if booking_id is not None else "")


def _managed(booking_id: int) -> manage.ManagedBooking:
    """The booking, if the user manages its site; others get a 404 as on the requests page."""
    try:
        return manage.managed_booking(current_user, booking_id)
    except NotPermitted:
        abort(404)


@bp.get("/manage/bookings")
@login_required
def manage_bookings():
    try:
        choices = manage.booking_choices(current_user)
    except NotPermitted:
        abort(403, description=_("You do not manage any site."))
    site_id = request.args.get("site", type=int)
    room_id = request.args.get("room", type=int)
    if site_id is not None and site_id not in {s.id for s in choices.sites}:
        abort(404)
    if room_id is not None and room_id not in {r.id for r in choices.rooms}:
        abort(404)
    where = manage.BookingFilter(
        site_id=site_id,
        room_id=room_id,
        date_from=query_date("from"),
        date_to=query_date("to"),
        collisions=bool(request.args.get("collisions")),
    )
    found = manage.booking_page(current_user, where, page=page_number(), zone=city_zone())
    return render_template(
        "manage/bookings.html",
        choices=choices,
        where=where,
        found=found,
        filters=_filters(),
        args={k: v for k, v in _filters().items() if k != "page"},
    )


@bp.route("/manage/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def manage_cancel(booking_id: int):
    """Cancel one upcoming approved date (``?occurrence=``) or all of them, with a reason."""
    managed = _managed(booking_id)
    one = request.args.get("occurrence", type=int)
    dates = [d for d in managed.dates if one is None or d.id == one]
    if one is not None and not dates:
        abort(404)
    form = CancelForm()

    def page(status: int = 200):
        return render_template(
            "manage/cancel.html",
            managed=managed,
            dates=dates,
            one=one,
            form=form,
            filters=_filters(),
        ), status

    if request.method == "GET":
        return page()
    if not dates:
        flash(_("This booking has no upcoming approved dates."), "error")
        return redirect(_back(booking_id))
    if not form.validate():
        return page(422)
    try:
        booking_service.cancel(current_user, booking_id, [d.id for d in dates], form.reason.data)
    except InvalidRequest as exc:
        field_error(form, exc)
        return page(422)
    except InvalidTransition as exc:
        flash(error_text(exc), "error")
        return redirect(_back(booking_id))
    flash(
        ngettext(
            "Cancelled %(num)d date of “%(title)s”; the requester is told.",
            "Cancelled %(num)d dates of “%(title)s”; the requester is told.",
            len(dates),
            title=managed.booking.title,
        ),
        "success",
    )
    return redirect(_back(booking_id))


def _room_choices(form: ChangeForm, managed: manage.ManagedBooking) -> None:
    form.room.choices = [(r.id, r.name) for r in managed.rooms]
    if form.room.data is None:
        form.room.data = managed.booking.room_id


def _change_page(template: str, form: ChangeForm, status: int, **context):
    return render_template(template, form=form, filters=_filters(), **context), status


@bp.route("/manage/dates/<int:occurrence_id>/move", methods=["GET", "POST"])
@login_required
def manage_move(occurrence_id: int):
    """Move one approved date: check the new time first, then move it."""
    try:
        managed, occurrence = manage.managed_occurrence(current_user, occurrence_id)
    except NotPermitted:
        abort(404)
    zone = managed.booking.room.site.timezone
    form = MoveForm()
    _room_choices(form, managed)
    context = {"managed": managed, "occurrence": occurrence, "plan": None}
    if request.method == "GET":
        form.room.data = occurrence.room_id
        form.day.data = local(occurrence.starts_at, zone).date()
        form.start.data = local(occurrence.starts_at, zone).time()
        form.end.data = local(occurrence.ends_at, zone).time()
        return _change_page("manage/move.html", form, 200, **context)
    if not form.validate_shape():
        return _change_page("manage/move.html", form, 422, **context)

    def plan():
        return booking_service.plan_move(
            current_user,
            occurrence_id,
            datetime.combine(form.day.data, form.start.data),
            datetime.combine(form.day.data, form.end.data),
            form.room.data,
        )

    def write():
        booking_service.move_occurrence(
            current_user,
            occurrence_id,
            datetime.combine(form.day.data, form.start.data),
            datetime.combine(form.day.data, form.end.data),
            form.room.data,
            reason=form.reason.data or "",
        )

    return _preview_or_change(
        "manage/move.html",
        form,
        context,
        plan,
        write,
        _("Moved the date of “%(title)s”; the requester is told.", title=managed.booking.title),
    )


@bp.route("/manage/bookings/<int:booking_id>/series", methods=["GET", "POST"])
@login_required
def manage_series(booking_id: int):
    """New times (or another room) for a booking's upcoming dates from a day on."""
    managed = _managed(booking_id)
    zone = managed.booking.room.site.timezone
    form = SeriesForm()
    _room_choices(form, managed)
    context = {"managed": managed, "plan": None}
    if request.method == "GET":
        if managed.dates:
            first = managed.dates[0]
            form.day.data = local(first.starts_at, zone).date()
            form.start.data = local(first.starts_at, zone).time()
            form.end.data = local(first.ends_at, zone).time()
        return _change_page("manage/series.html", form, 200, **context)
    if not form.validate_shape():
        return _change_page("manage/series.html", form, 422, **context)
    change = {
        "from_date": form.day.data,
        "start_time": form.start.data,
        "end_time": form.end.data,
        "room_id": form.room.data,
    }

    def plan():
        return booking_service.plan_series_change(current_user, booking_id, **change)

    def write():
        booking_service.change_series(
            current_user, booking_id, reason=form.reason.data or "", **change
        )

    return _preview_or_change(
        "manage/series.html",
        form,
        context,
        plan,
        write,
        _("Changed the dates of “%(title)s”; the requester is told.", title=managed.booking.title),
    )


def _preview_or_change(template, form: ChangeForm, context: dict, plan, write, done: str):
    """Show the checked change, or make it when the user confirms what they were shown.

    A refusal (taken meanwhile, a problem with a field) shows the change checked again."""
    fingerprint = form.fingerprint()
    confirmed = bool(form.confirm.data) and form.previewed.data == fingerprint
    if form.confirm.data and not confirmed:
        flash(_("You changed the details. Please check the new times again."), "info")
    status = 200
    if confirmed:
        try:
            write()
        except Conflict:
            form.form_errors.append(_("Not every date fits. Nothing was changed."))
            status = 409
        except (InvalidRequest, InvalidTransition) as exc:
            _refused(form, exc)
            return _change_page(template, form, 422, **context)
        else:
            flash(done, "success")
            return redirect(_back(context["managed"].booking.id))
    try:
        context["plan"] = plan()
    except (InvalidRequest, InvalidTransition) as exc:
        _refused(form, exc)
        return _change_page(template, form, 422, **context)
    form.previewed.data = fingerprint
    return _change_page(template, form, status, **context)


# Service field names (InvalidRequest.field) -> the change forms' fields.
CHANGE_FIELDS = {"start": "start", "end": "end", "end_time": "end", "reason": "reason"}


def _refused(form: ChangeForm, exc: InvalidRequest | InvalidTransition) -> None:
    name = CHANGE_FIELDS.get(getattr(exc, "field", None) or "")
    if name is None:
        form.form_errors.append(error_text(exc))
    else:
        field = getattr(form, name)
        field.errors = [*field.errors, error_text(exc)]
