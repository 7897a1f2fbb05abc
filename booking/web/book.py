"""The booking form with its preview, and the page that says what happens next."""

from __future__ import annotations

from datetime import date, time

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.errors import error_text
from booking.models import OccurrenceStatus, Room
from booking.services import bookings as booking_service
from booking.services.competition import waiting_counts
from booking.services.errors import Conflict, InvalidRequest, NotPermitted
from booking.services.room_context import active_room
from booking.web import bp, keep_input, limits
from booking.web.forms import (
    SERVICE_FIELDS,
    BookingForm,
    choices,
    command_from_form,
    new_submission_token,
)


def _organisation_choices():
    pairs = [("", _("Myself, as a private person"))]
    pairs.extend((str(o.id), o.name) for o in current_user.organisations)
    return choices(pairs)


def _prefill(form: BookingForm) -> None:
    """Take date, times and people over from a search result's "Book" link."""
    args = request.args
    try:
        if args.get("date"):
            form.date.data = date.fromisoformat(args["date"])
        if args.get("start"):
            form.start.data = time.fromisoformat(args["start"])
        if args.get("end"):
            form.end.data = time.fromisoformat(args["end"])
    except ValueError:
        pass  # a mangled link just leaves the field empty
    if args.get("people", "").isdigit():
        form.attendees.data = int(args["people"])
    if args.get("repeat") in {c.value for c in form.repeat.choices}:
        form.repeat.data = args["repeat"]
        try:
            if args.get("until"):
                form.until.data = date.fromisoformat(args["until"])
                form.limit.data = "until"
        except ValueError:
            pass
        if args.get("skip_closures") == "0":  # the search counted closed weeks as not free
            form.skip_closures.data = False


def _field_error(form: BookingForm, exc: InvalidRequest | NotPermitted) -> None:
    """The service's refusal, translated, next to the field it concerns (else above the form)."""
    name = SERVICE_FIELDS.get(getattr(exc, "field", None) or "")
    if isinstance(exc, NotPermitted):
        name = "organisation"
    if name is None:
        form.form_errors.append(error_text(exc))
        return
    field = getattr(form, name)
    field.errors = [*field.errors, error_text(exc)]


def _plan(form: BookingForm, room: Room):
    """The preview of the form's dates, or None with the problem marked on the form."""
    try:
        return booking_service.plan_booking(current_user, command_from_form(form, room.id))
    except (InvalidRequest, NotPermitted) as exc:
        _field_error(form, exc)
    return None


@bp.route("/rooms/<int:room_id>/book", methods=["GET", "POST"])
@login_required
@keep_input.keeps_input
def book(room_id: int):
    room = active_room(room_id)
    form = keep_input.form(BookingForm)  # filled in again after an expired form or a login
    form.organisation.choices = _organisation_choices()
    limits.describe(form, room)  # the room's limits next to the fields they concern
    if not keep_input.submitted():
        if keep_input.kept() is None:
            _prefill(form)
        else:
            form.previewed.data = ""  # kept values are checked again before anything is booked
        if not form.submission.data:  # a kept form goes on as the same submission
            form.submission.data = new_submission_token()  # a new form: a new submission
        return render_template("web/book.html", room=room, form=form, plan=None)

    form.submission_token()  # every answer carries the form's key on to the next submit

    if not form.validate_shape():
        return render_template("web/book.html", room=room, form=form, plan=None), 422

    fingerprint = form.fingerprint()
    wants_booking = bool(form.book.data) and form.previewed.data == fingerprint
    if form.book.data and not wants_booking:
        flash(_("You changed the details. Please check the dates again before booking."), "info")
    if not wants_booking:
        plan = _plan(form, room)
        form.previewed.data = fingerprint if plan is not None else ""
        status = 200 if plan is not None else 422
        if plan is not None and limits.mark(form, plan):
            status = 422  # a broken limit is an error on its field, besides the preview's row
        return render_template("web/book.html", room=room, form=form, plan=plan), status

    # The key is the user's own: another account's form can never meet this one's booking.
    submission_key = f"web:{current_user.id}:{form.submission.data}"
    try:
        booking = booking_service.request_booking(
            current_user, command_from_form(form, room.id, submission_key)
        )
    except (InvalidRequest, NotPermitted) as exc:
        if exc.code == "idempotency_key_reused":
            return _sent_before(form, room, fingerprint)
        _field_error(form, exc)
        plan = _plan(form, room) if isinstance(exc, InvalidRequest) else None
        return render_template("web/book.html", room=room, form=form, plan=plan), 422
    except Conflict as exc:
        # The dates as the service saw them when it refused. The race (someone booked a moment
        # ago) carries the dates without the whole request: check it again to show it.
        plan = exc.plan if exc.plan is not None else _plan(form, room)
        if plan is None:
            pass  # the problem is already marked on its field
        elif plan.bookable and not form.book_free_dates_only.data:
            form.book_free_dates_only.errors = [
                _("Some dates cannot be booked. Tick this box to book only the free ones.")
            ]
        else:
            form.form_errors.append(
                _("None of these dates can be booked any more. Please choose another time.")
            )
        form.previewed.data = fingerprint
        return render_template("web/book.html", room=room, form=form, plan=plan), 409
    return redirect(url_for("web.booking_received", booking_id=booking.id))


def _sent_before(form: BookingForm, room: Room, fingerprint: str):
    """This form already made a booking, and now comes with other details (Back, a change,
    "Book"): book nothing yet, give the form a new key and let the user confirm once more."""
    form.submission.data = new_submission_token()
    form.form_errors.append(
        _(
            "You have already sent this form once, with other details. To send these details "
            "as a new request as well, check the dates and press “Book” again."
        )
    )
    plan = _plan(form, room)
    form.previewed.data = fingerprint if plan is not None else ""
    return render_template("web/book.html", room=room, form=form, plan=plan), 422


@bp.context_processor
def _competition() -> dict:
    """For the preview: per date, how many other requests wait for that time (no names)."""
    return {"waiting_counts": lambda plan: waiting_counts(plan, current_user)}


@bp.get("/my/bookings/<int:booking_id>/received")
@login_required
def booking_received(booking_id: int):
    booking = booking_service.get_booking(current_user, booking_id)
    pending = any(o.status is OccurrenceStatus.PENDING for o in booking.occurrences)
    return render_template("web/received.html", booking=booking, pending=pending)
