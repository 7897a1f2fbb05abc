"""A site's closures: list, add by hand, import an ``.ics`` file (or the NRW holidays with one
click), delete; and the dates the closures hit, to cancel them all in one step with one reason.

Each page calls the closures service (``booking.services.closures``), which checks that the user
manages the site; a refusal it can show next to a field comes back as a form error (422).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from booking.errors import error_text
from booking.input_guard import MAX_ID, page_number
from booking.services import closures
from booking.services.errors import N_, InvalidRequest
from booking.web.admin import bp
from booking.web.helpers import fmt_date, fmt_time, local

WHOLE_SITE = ""
# The service names the period's ends "from" and "to"; the form has a day and a time for each.
FORM_FIELDS = {"from": "from_day", "to": "to_day"}


class ClosureForm(FlaskForm):
    room_id = SelectField(_l("What is closed"), default=WHOLE_SITE)
    from_day = DateField(
        _l("From (first day)"),
        validators=[InputRequired(_l("Please give the first day."))],
    )
    from_time = TimeField(
        _l("From (time, optional)"),
        validators=[Optional()],
        description=_l("Empty: from the start of the day."),
    )
    to_day = DateField(
        _l("Until (last day)"),
        validators=[InputRequired(_l("Please give the last day."))],
    )
    to_time = TimeField(
        _l("Until (time, optional)"),
        validators=[Optional()],
        description=_l("Empty: until the end of the day."),
    )
    reason = StringField(
        _l("Reason"),
        validators=[InputRequired(_l("Please give a reason."))],
        description=_l("For example: renovation, caretaker on holiday."),
    )

    def set_rooms(self, rooms) -> None:
        self.room_id.choices = [SelectChoice(WHOLE_SITE, _l("The whole site"))] + [
            SelectChoice(str(r.id), r.name) for r in rooms
        ]

    def command(self) -> closures.ClosureCommand:
        def when(day, at):
            return datetime.combine(day, at) if day is not None and at is not None else day

        room = self.room_id.data
        return closures.ClosureCommand(
            start=when(self.from_day.data, self.from_time.data),
            end=when(self.to_day.data, self.to_time.data),
            reason=self.reason.data or "",
            room_id=int(room) if room and room.isdigit() else None,
        )


class ImportForm(FlaskForm):
    file = FileField(
        _l("iCalendar file (.ics)"),
        description=_l("Each event becomes a closure of the whole site, for whole days."),
    )


class CancelHitsForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the requesters"),
        validators=[InputRequired(_l("Please tell the requesters why."))],
        description=_l("Every requester gets it by mail with their dates."),
    )


def period_text(closure, zone: str) -> str:
    """A closure's period in the site's wall time: whole days as "first – last day"."""
    start, end = local(closure.starts_at, zone), local(closure.ends_at, zone)
    if start.time() == end.time() == time(0):
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return fmt_date(start)
        return f"{fmt_date(start)} – {fmt_date(last)}"
    return f"{fmt_date(start)}, {fmt_time(start)} – {fmt_date(end)}, {fmt_time(end)}"


def date_text(occurrence, zone: str) -> str:
    start, end = local(occurrence.starts_at, zone), local(occurrence.ends_at, zone)
    return f"{fmt_date(start)}, {fmt_time(start)}–{fmt_time(end)}"


def _show_error(form: FlaskForm, exc: InvalidRequest) -> None:
    name = FORM_FIELDS.get(exc.field or "", exc.field)
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, error_text(exc)]
    else:
        form.form_errors.append(error_text(exc))


def _list_page(site, add_form: ClosureForm, import_form: ImportForm):
    found = closures.list_closures(current_user, site.id, page=page_number())
    failed = bool(
        add_form.errors or add_form.form_errors or import_form.errors or import_form.form_errors
    )
    return render_template(
        "admin/closures.html",
        site=site,
        found=found,
        form=add_form,
        import_form=import_form,
        holiday_files=closures.HOLIDAY_FILES,
        period_text=period_text,
    ), (422 if failed else 200)


@bp.route("/sites/<int:site_id>/closures", methods=["GET", "POST"])
@login_required
def site_closures(site_id: int):
    """The site's closures and the form to add one by hand (POST)."""
    site = closures.site_for_closures(current_user, site_id)
    form = ClosureForm()
    form.set_rooms(site.rooms)
    if form.is_submitted() and form.validate():
        try:
            closure = closures.create_closure(current_user, site.id, form.command())
        except InvalidRequest as exc:
            _show_error(form, exc)
        else:
            flash(_("The closure is saved."), "success")
            return redirect(url_for("admin.closure_hits", site_id=site.id, closure=closure.id))
    return _list_page(site, form, ImportForm(formdata=None))


@bp.post("/sites/<int:site_id>/closures/import")
@login_required
def import_closures(site_id: int):
    """Import an uploaded ``.ics`` file, or (button ``holidays``) a shipped holiday file."""
    site = closures.site_for_closures(current_user, site_id)
    import_form = ImportForm()
    form = ClosureForm(formdata=None)
    form.set_rooms(site.rooms)
    if not import_form.validate():
        return _list_page(site, form, import_form)
    which = request.form.get("holidays")
    try:
        if which is not None:
            result = closures.import_holidays(current_user, site.id, which)
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise InvalidRequest(N_("Please choose a file."), "file", code="file_missing")
            data = upload.stream.read(closures.ICS_MAX_BYTES + 1)
            result = closures.import_ics(current_user, site.id, data, source=upload.filename)
    except InvalidRequest as exc:
        _show_error(import_form, exc)
        return _list_page(site, form, import_form)
    flash(
        _(
            "Imported: %(created)d new, %(changed)d changed, %(unchanged)d unchanged.",
            created=result.created,
            changed=result.changed,
            unchanged=result.unchanged,
        ),
        "success",
    )
    return redirect(url_for("admin.closure_hits", site_id=site.id, closure=result.closure_ids))


@bp.post("/sites/<int:site_id>/closures/<int:closure_id>/delete")
@login_required
def delete_closure(site_id: int, closure_id: int):
    closure = closures.delete_closure(current_user, site_id, closure_id)
    flash(_("The closure “%(reason)s” is deleted.", reason=closure.reason), "success")
    return redirect(url_for("admin.site_closures", site_id=site_id))


@bp.route("/sites/<int:site_id>/closures/hits", methods=["GET", "POST"])
@login_required
def closure_hits(site_id: int):
    """The approved and pending dates the chosen closures (``closure`` ids; none: all upcoming
    closures of the site) fall on, and one button to cancel them all with one reason."""
    site = closures.site_for_closures(current_user, site_id)
    # An id beyond the database's range names no closure (0), as in a path.
    sent = request.values.getlist("closure", type=int)
    closure_ids = [i if abs(i) <= MAX_ID else 0 for i in sent] or None
    form = CancelHitsForm()
    if form.is_submitted() and form.validate():
        try:
            outcome = closures.cancel_hit_dates(
                current_user, site.id, closure_ids, form.reason.data or ""
            )
        except InvalidRequest as exc:
            _show_error(form, exc)
        else:
            if outcome.bookings:
                flash(
                    ngettext(
                        "%(num)d date is cancelled; its requester is told by mail.",
                        "%(num)d dates are cancelled; their requesters are told by mail.",
                        outcome.cancelled + outcome.declined,
                    ),
                    "success",
                )
            else:
                flash(_("No date needed cancelling."), "info")
            return redirect(url_for("admin.site_closures", site_id=site.id))
    hits = closures.hit_dates(current_user, site.id, closure_ids)
    failed = bool(form.errors or form.form_errors)
    return render_template(
        "admin/closure_hits.html",
        site=site,
        hits=hits,
        form=form,
        closure_ids=closure_ids or [],
        period_text=period_text,
        date_text=date_text,
    ), (422 if failed else 200)
