"""A booking's history: who requested, approved, declined, cancelled or moved which dates, when
and why. For the managers of its site (linked from their lists) and for its parties; anyone
else gets a 404 (``services.audit.history`` decides)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.services import audit, permissions
from booking.services import bookings as booking_service
from booking.web import bp
from booking.web.admin.audit import PER_PAGE, page_number, render_history


@bp.get("/manage/bookings/<int:booking_id>/history")
@login_required
def manage_history(booking_id: int):
    booking = booking_service.get_booking(current_user, booking_id)
    found = audit.history(
        current_user, booking_id=booking.id, page=page_number(), per_page=PER_PAGE
    )
    if permissions.can_manage_site(current_user, booking.room.site_id):
        back = (url_for("web.manage_bookings") + f"#booking-{booking.id}", _("Approved bookings"))
    else:
        back = (url_for("web.my_bookings"), _("My bookings"))
    return render_history(
        heading=_("History of “%(title)s”", title=booking.title), found=found, back=back
    )
