"""Facility managers: the day at their sites and the open requests to answer."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_timedelta
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length

from booking.errors import error_text
from booking.input_guard import page_number, query_date, query_id
from booking.services import bookings as booking_service
from booking.services import manage
from booking.services.errors import Conflict, InvalidRequest, InvalidTransition, NotPermitted
from booking.web import bp
from booking.web.helpers import city_zone

# What the other requesters are told when their time goes to someone else; the manager may edit it.
RIVAL_REASON = _l("Another group was given this time.")
FILTERS = ("site", "room", "organisation", "date", "page")


class DecisionForm(FlaskForm):
    action = StringField(validators=[AnyOf(["approve", "decline"])])
    occurrences = SelectMultipleField(coerce=int, validate_choice=False)
    message = TextAreaField(validators=[Length(max=2000)])
    rival_reason = TextAreaField(validators=[Length(max=2000)])


def _manager_or_403() -> None:
    if not manage.managed_sites(current_user):
        abort(403, description=_("You do not manage any site."))


@bp.get("/manage")
@login_required
def manage_dashboard():
    _manager_or_403()
    now = datetime.now(UTC)
    day = manage.dashboard(current_user, zone=city_zone(), now=now)
    oldest_age = None
    if day.oldest_request_at is not None:
        oldest_age = format_timedelta(
            now - day.oldest_request_at, threshold=1.5, locale=get_locale()
        )
    return render_template(
        "manage/dashboard.html",
        day=day,
        today=now.astimezone(city_zone()).date(),
        oldest_age=oldest_age,
    )


def _filter_args() -> dict:
    """The list's filters from the query string, as the links and the form keep them."""
    return {k: v for k in FILTERS if (v := request.args.get(k, "").strip())}


@bp.get("/manage/requests")
@login_required
def manage_requests():
    _manager_or_403()
    choices = manage.request_choices(current_user)
    site_id = request.args.get("site", type=int)
    room_id = request.args.get("room", type=int)
    if site_id is not None and site_id not in {s.id for s in choices.sites}:
        abort(404)
    if room_id is not None and room_id not in {r.id for r in choices.rooms}:
        abort(404)
    where = manage.RequestFilter(
        site_id=site_id,
        room_id=room_id,
        organisation_id=query_id("organisation"),
        day=query_date("date"),
    )
    found = manage.request_page(current_user, where, page=page_number(), zone=city_zone())
    form = DecisionForm()
    return render_template(
        "manage/requests.html",
        choices=choices,
        where=where,
        found=found,
        filters=_filter_args(),
        args={k: v for k, v in _filter_args().items() if k != "page"},
        form=form,
        rival_reason=RIVAL_REASON,
    )


@bp.post("/manage/bookings/<int:booking_id>/decide")
@login_required
def decide(booking_id: int):
    form = DecisionForm()
    filters = _filter_args()
    back = url_for("web.manage_requests", **filters)
    if not form.validate():
        flash(_("Please choose approve or decline and try again."), "error")
        return redirect(back)
    chosen = form.occurrences.data or None
    message = (form.message.data or "").strip()
    declined_rivals = 0
    try:
        if form.action.data == "approve":
            decision = booking_service.approve_and_decline_rivals(
                current_user, booking_id, chosen, message, form.rival_reason.data or ""
            )
            booking = decision.booking
            declined_rivals = len(decision.declined_rivals)
            verb = "approved"
        else:
            booking = booking_service.decline(current_user, booking_id, message, chosen)
            verb = "declined"
    except InvalidRequest as exc:
        flash(error_text(exc), "error")
        return redirect(back + f"#request-{booking_id}")
    except Conflict as exc:
        if not exc.blocked:  # another manager approved an overlapping request a moment ago
            flash(error_text(exc), "error")
        else:
            flash(
                ngettext(
                    "%(num)d date cannot be approved: it collides with an approved booking or a "
                    "closure. Decline it or approve the other dates only.",
                    "%(num)d dates cannot be approved: they collide with approved bookings or "
                    "closures. Decline them or approve the other dates only.",
                    len(exc.blocked),
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
        if declined_rivals:
            flash(
                ngettext(
                    "Declined %(num)d competing date; its requester is told.",
                    "Declined %(num)d competing dates; their requesters are told.",
                    declined_rivals,
                ),
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
