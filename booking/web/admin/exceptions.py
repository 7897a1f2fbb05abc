"""Dated exceptions to the opening hours, on the site's (or the room's) opening-hours page: the
list of upcoming ones with a delete button each, and a small form to add one.

A refused form is answered with the whole opening-hours page (the week as saved, the exception
form with its errors) and status 422; a success redirects back to that page.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TimeField
from wtforms.validators import InputRequired, Optional

from booking.services import places
from booking.services.errors import InvalidRequest
from booking.web.admin import bp
from booking.web.admin.forms import WEEKDAY_LABELS, OpeningHoursForm
from booking.web.forms import field_error


class ExceptionForm(FlaskForm):
    """One date: closed all day, or open from-until (until 00:00 is midnight at its end)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Please give a date."))])
    closed = BooleanField(_l("Closed all day"))
    opens = TimeField(_l("Open from"), validators=[Optional()])
    closes = TimeField(_l("Open until"), validators=[Optional()])
    reason = StringField(
        _l("Reason"),
        description=_l("For example: Christmas Eve. At most 200 characters."),
        validators=[Optional()],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.closed.data:
            for f in (self.opens, self.closes):
                if f.data is None and not f.errors:
                    f.errors = [
                        *f.errors,
                        _l("Please give both times, or tick “Closed all day”."),
                    ]
                    ok = False
        return ok

    def command(self) -> places.ExceptionCommand:
        if self.closed.data:
            return places.ExceptionCommand(self.day.data, None, None, self.reason.data or "")
        opens = self.opens.data.hour * 60 + self.opens.data.minute
        closes = self.closes.data.hour * 60 + self.closes.data.minute or 24 * 60
        return places.ExceptionCommand(self.day.data, opens, closes, self.reason.data or "")


def _new_form(**kwargs) -> ExceptionForm:
    # A prefix keeps its ids apart from the week form's on the same page.
    return ExceptionForm(prefix="exception", **kwargs)


def section(site, room, form: ExceptionForm | None = None) -> dict:
    """What the opening-hours page needs for its exceptions section."""
    room_id = None if room is None else room.id
    own = places.exceptions_for_editing(current_user, site.id, room_id)
    inherited = []
    if room is not None:  # the site's that reach this room: shown, changed on the site's page
        days = {e.day for e in own}
        inherited = [
            e
            for e in places.exceptions_for_editing(current_user, site.id, None)
            if e.day not in days
        ]
    return {
        "exceptions": own,
        "site_exceptions": inherited,
        "exception_form": form if form is not None else _new_form(formdata=None),
        "exception_action": url_for("admin.site_opening_exceptions", site_id=site.id)
        if room is None
        else url_for("admin.room_opening_exceptions", room_id=room.id),
    }


def _page_url(site_id: int, room_id: int | None) -> str:
    if room_id is None:
        return url_for("admin.site_opening_hours", site_id=site_id, _anchor="exceptions")
    return url_for("admin.room_opening_hours", room_id=room_id, _anchor="exceptions")


def _outside_warning(outside: int) -> None:
    if outside:
        flash(
            ngettext(
                "%(num)d upcoming approved date now lies outside the opening hours. "
                "Nothing was changed about it: please check the plan.",
                "%(num)d upcoming approved dates now lie outside the opening hours. "
                "Nothing was changed about them: please check the plan.",
                outside,
            ),
            "warning",
        )


def _add(site, room):
    room_id = None if room is None else room.id
    form = _new_form()
    if form.validate():
        try:
            saved = places.set_opening_exception(current_user, site.id, room_id, form.command())
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("The exception is saved."), "success")
            _outside_warning(saved.outside)
            return redirect(_page_url(site.id, room_id))
    week = OpeningHoursForm(formdata=None)
    week.fill(places.opening_windows(site.id, room_id))
    return render_template(
        "admin/opening_hours.html",
        form=week,
        site=site,
        room=room,
        weekdays=WEEKDAY_LABELS,
        **section(site, room, form),
    ), 422


@bp.post("/sites/<int:site_id>/opening-hours/exceptions")
@login_required
def site_opening_exceptions(site_id: int):
    return _add(places.site_for_editing(current_user, site_id), None)


@bp.post("/rooms/<int:room_id>/opening-hours/exceptions")
@login_required
def room_opening_exceptions(room_id: int):
    room = places.room_for_editing(current_user, room_id)
    return _add(room.site, room)


@bp.post("/opening-exceptions/<int:exception_id>/delete")
@login_required
def delete_opening_exception(exception_id: int):
    saved = places.delete_opening_exception(current_user, exception_id)
    flash(_("The exception is deleted: the usual hours apply on that date again."), "success")
    _outside_warning(saved.outside)
    return redirect(_page_url(saved.site_id, saved.room_id))
