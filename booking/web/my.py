"""My bookings: every date of the user's and their organisations' bookings, and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField

from booking.input_guard import page_number
from booking.models import OccurrenceStatus
from booking.services import bookings as booking_service
from booking.services import permissions, queries
from booking.services.bookings import ACTIVE
from booking.services.errors import InvalidRequest, InvalidTransition
from booking.web import bp
from booking.web.helpers import fmt_date, fmt_time, local


class CancelForm(FlaskForm):
    """Cancel one date (``occurrence`` set) or every upcoming date of a booking (empty)."""

    occurrence = HiddenField()


@bp.get("/my/bookings")
@login_required
def my_bookings():
    now = datetime.now(UTC)
    # Bookings with dates still ahead come first, soonest first; the rest are history. Each
    # group has its own pager, so a long history never pushes the next dates off the page.
    found = queries.my_bookings(
        current_user,
        upcoming_page=page_number(),
        earlier_page=page_number("earlier_page"),
        now=now,
    )
    bookings = found.upcoming.items + found.earlier.items
    upcoming = {
        b.id: [o for o in b.occurrences if o.status in ACTIVE and o.ends_at > now] for b in bookings
    }
    return render_template(
        "web/my_bookings.html",
        current=found.upcoming.items,
        earlier=found.earlier.items,
        found=found,
        upcoming=upcoming,
        now=now,
        cancel_form=CancelForm(),
        active=ACTIVE,
    )


def _chosen_date(value: str | None) -> list[int] | None:
    """The one date asked for (``occurrence``), or None for every upcoming date."""
    value = (value or "").strip()
    if value and not value.isdigit():
        abort(400, description=_("There is no such date."))
    return [int(value)] if value else None


def _dates_text(booking, dates) -> str:
    zone = booking.room.site.timezone
    shown = [
        f"{fmt_date(local(o.starts_at, zone), 'medium')}, "
        f"{fmt_time(local(o.starts_at, zone))}–{fmt_time(local(o.ends_at, zone))}"
        for o in sorted(dates, key=lambda o: o.starts_at)
    ]
    if len(shown) > 12:  # a long series: the first dates and how many more
        shown = [*shown[:10], _("and %(num)d more", num=len(shown) - 10)]
    return "; ".join(shown)


@bp.route("/my/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    """GET asks first (which dates, and what happens); POST cancels and says which dates."""
    if request.method == "GET":
        return _confirm_cancel(booking_id, _chosen_date(request.args.get("occurrence")))
    form = CancelForm()
    if not form.validate():
        abort(400, description=_("The form has expired. Please try again."))
    ids = _chosen_date(form.occurrence.data)
    try:
        booking = booking_service.cancel(current_user, booking_id, ids)
    except (InvalidTransition, InvalidRequest):
        flash(_("This date cannot be cancelled any more."), "error")
        return redirect(url_for("web.my_bookings"))
    cancelled = [o for o in booking.occurrences if o.status is OccurrenceStatus.CANCELLED]
    if ids:
        done = [o for o in cancelled if o.id in ids]
        flash(_("The date of “%(title)s” was cancelled.", title=booking.title), "success")
    else:
        # The service stamps the dates it cancels with one decision time: those are this step's.
        latest = max((o.decided_at for o in cancelled if o.decided_at), default=None)
        done = [o for o in cancelled if o.decided_at == latest] if latest else cancelled
        flash(
            ngettext(
                "“%(title)s”: %(num)d date is cancelled.",
                "“%(title)s”: %(num)d dates are cancelled.",
                len(done),
                title=booking.title,
            ),
            "success",
        )
    flash(_("Cancelled: %(dates)s", dates=_dates_text(booking, done)), "info")
    # No anchor: the messages at the top of the page are the result to read first.
    return redirect(url_for("web.my_bookings"))


def _confirm_cancel(booking_id: int, ids: list[int] | None):
    booking = booking_service.get_booking(current_user, booking_id)
    now = datetime.now(UTC)
    dates = [
        o
        for o in sorted(booking.occurrences, key=lambda o: o.starts_at)
        if o.status in ACTIVE and o.ends_at > now and (ids is None or o.id in ids)
    ]
    return render_template(
        "web/cancel_confirm.html",
        booking=booking,
        dates=dates,
        one=ids[0] if ids else None,
        form=CancelForm(formdata=None, data={"occurrence": str(ids[0]) if ids else ""}),
        may_cancel=permissions.can_cancel(current_user, booking),
        # The same rule as services.notifications.notify_dates_cancelled.
        is_manager=any(m.id == current_user.id for m in booking.room.site.managers),
    )
