"""Printable plans for the door (#11): a site's day or week plan and a room's door sign."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField

from booking.input_guard import FIRST_DAY, LAST_DAY
from booking.services import door_plans
from booking.web import bp
from booking.web.forms import choices
from booking.web.helpers import local_today


class PlanForm(FlaskForm):
    """Which plan to show: a GET form, so no CSRF token and every plan has its own address."""

    class Meta:
        csrf = False

    date = DateField(_l("Date"), description=_l("A week plan shows the week of this date."))
    view = RadioField(
        _l("Plan"), choices=choices([("day", _l("Day")), ("week", _l("Week"))]), default="day"
    )
    pending = BooleanField(_l("Also show requests waiting for approval"))


def _day_arg() -> date:
    text = request.args.get("date", "").strip()
    if not text:
        return local_today()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, description=_("Please give the date as YYYY-MM-DD, for example 2026-12-01."))
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(
            400,
            description=_(
                "Please give a date between %(first)d and %(last)d.",
                first=FIRST_DAY.year,
                last=LAST_DAY.year,
            ),
        )
    return day


@bp.get("/manage/sites/<int:site_id>/plan")
@login_required
def site_plan(site_id: int):
    day = _day_arg()
    view = request.args.get("view") or "day"
    if view not in door_plans.VIEWS:
        abort(400, description=_("Please choose a day or a week plan."))
    with_pending = request.args.get("pending") in ("y", "1", "on", "true")
    plan = door_plans.site_plan(current_user, site_id, day, view, with_pending=with_pending)
    form = PlanForm(data={"date": day, "view": view, "pending": with_pending})
    return render_template("manage/plan.html", plan=plan, form=form, day=day)


@bp.get("/manage/rooms/<int:room_id>/door-sign")
@login_required
def door_sign(room_id: int):
    sign = door_plans.door_sign(current_user, room_id, _day_arg())
    return render_template("manage/door_sign.html", sign=sign)
