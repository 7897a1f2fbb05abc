"""Facility managers: answer the open requests for their sites."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length

from booking.errors import error_text
from booking.services import bookings as booking_service
from booking.services import manage
from booking.services.errors import Conflict, InvalidRequest, InvalidTransition, NotPermitted
from booking.web import bp


class DecisionForm(FlaskForm):
    action = StringField(validators=[AnyOf(["approve", "decline"])])
    occurrences = SelectMultipleField(coerce=int, validate_choice=False)
    message = TextAreaField(validators=[Length(max=2000)])


@bp.get("/manage")
@login_required
def manage_requests():
    sites = manage.managed_sites(current_user)
    if not sites:
        abort(403, description=_("You do not manage any site."))
    site_id = request.args.get("site", type=int)
    if site_id is not None and site_id not in {s.id for s in sites}:
        abort(404)
    requests = manage.pending_requests(current_user, site_id=site_id)
    return render_template(
        "manage/requests.html", sites=sites, site_id=site_id, requests=requests, form=DecisionForm()
    )


@bp.post("/manage/bookings/<int:booking_id>/decide")
@login_required
def decide(booking_id: int):
    form = DecisionForm()
    back = url_for("web.manage_requests", site=request.args.get("site", type=int))
    if not form.validate():
        flash(_("Please choose approve or decline and try again."), "error")
        return redirect(back)
    chosen = form.occurrences.data or None
    message = (form.message.data or "").strip()
    try:
        if form.action.data == "approve":
            booking = booking_service.approve(current_user, booking_id, chosen, message)
            verb = "approved"
        else:
            booking = booking_service.decline(current_user, booking_id, message, chosen)
            verb = "declined"
    except InvalidRequest as exc:
        flash(error_text(exc), "error")
        return redirect(back + f"#request-{booking_id}")
    except Conflict as exc:
        flash(
            ngettext(
                "%(num)d date cannot be approved: it collides with an approved booking or a "
                "closure. Decline it or approve the other dates only.",
                "%(num)d dates cannot be approved: they collide with approved bookings or "
                "closures. Decline them or approve the other dates only.",
                len([d for d in exc.dates if d.problems]),
            ),
            "error",
        )
        return redirect(back + f"#request-{booking_id}")
    except InvalidTransition:
        flash(_("These dates have been answered already."), "error")
        return redirect(back)
    except NotPermitted:
        abort(404)
    count = len(chosen) if chosen else None
    if verb == "approved":
        flash(
            _("Approved: “%(title)s”.", title=booking.title)
            if count is None
            else ngettext("Approved %(num)d date.", "Approved %(num)d dates.", count),
            "success",
        )
    else:
        flash(
            _("Declined: “%(title)s”.", title=booking.title)
            if count is None
            else ngettext("Declined %(num)d date.", "Declined %(num)d dates.", count),
            "success",
        )
    return redirect(back)
