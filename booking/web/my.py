"""My bookings: every date of the user's and their organisations' bookings, and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField

from booking.services import bookings as booking_service
from booking.services import queries
from booking.services.bookings import ACTIVE
from booking.services.errors import InvalidRequest, InvalidTransition
from booking.web import bp


class CancelForm(FlaskForm):
    """Cancel one date (``occurrence`` set) or every upcoming date of a booking (empty)."""

    occurrence = HiddenField()


@bp.get("/my/bookings")
@login_required
def my_bookings():
    now = datetime.now(UTC)
    bookings = queries.bookings_for_user(current_user)
    upcoming = {
        b.id: [o for o in b.occurrences if o.status in ACTIVE and o.ends_at > now] for b in bookings
    }
    # Bookings with dates still ahead come first, soonest first; the rest are history.
    current = sorted(
        (b for b in bookings if any(o.ends_at > now for o in b.occurrences)),
        key=lambda b: min(o.starts_at for o in b.occurrences if o.ends_at > now),
    )
    earlier = [b for b in bookings if not any(o.ends_at > now for o in b.occurrences)]
    return render_template(
        "web/my_bookings.html",
        current=current,
        earlier=earlier,
        upcoming=upcoming,
        now=now,
        cancel_form=CancelForm(),
        active=ACTIVE,
    )


@bp.post("/my/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    form = CancelForm()
    if not form.validate():
        abort(400, description=_("The form has expired. Please try again."))
    value = (form.occurrence.data or "").strip()
    if value and not value.isdigit():
        abort(400, description=_("There is no such date."))
    ids = [int(value)] if value else None
    try:
        booking = booking_service.cancel(current_user, booking_id, ids)
    except (InvalidTransition, InvalidRequest):
        flash(_("This date cannot be cancelled any more."), "error")
        return redirect(url_for("web.my_bookings"))
    cancelled = sum(1 for o in booking.occurrences if o.status.value == "cancelled")
    if ids:
        flash(_("The date of “%(title)s” was cancelled.", title=booking.title), "success")
    else:
        flash(
            ngettext(
                "“%(title)s”: %(num)d date is cancelled.",
                "“%(title)s”: %(num)d dates are cancelled.",
                cancelled,
                title=booking.title,
            ),
            "success",
        )
    return redirect(url_for("web.my_bookings") + f"#booking-{booking.id}")
