"""The audit history pages: a site's and a room's history for its managers, everything with
filters for administrators, and what they share with the booking history
(``booking.web.manage_history``): action labels, readable changes, the pager.

Each page calls ``booking.services.audit.history``, which owns the permissions: a site or room
someone does not manage is a 403, one that does not exist a 404.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from booking import domain
from booking.extensions import db
from booking.models import ApprovalPolicy, Room, Site, SiteKind
from booking.services import audit, permissions
from booking.services.errors import InvalidRequest
from booking.web.admin import bp
from booking.web.admin.forms import (
    APPROVAL_LABELS,
    SITE_KIND_LABELS,
    WEEKDAY_LABELS,
    RoomForm,
    SiteForm,
)
from booking.web.forms import field_error, year_in_range
from booking.web.helpers import city_zone, feature_label, fmt_date, fmt_time, local

PER_PAGE = 50

ACTION_LABELS = {
    "requested": _l("Booking requested"),
    "approved": _l("Dates approved"),
    "declined": _l("Dates declined"),
    "cancelled": _l("Dates cancelled"),
    "moved": _l("Date moved"),
    "series_changed": _l("Upcoming dates changed"),
    "site_created": _l("Site created"),
    "site_updated": _l("Site changed"),
    "room_created": _l("Room created"),
    "room_updated": _l("Room changed"),
    "opening_hours_set": _l("Opening hours set"),
    "opening_exception_set": _l("Opening exception set"),
    "closure_created": _l("Closure added"),
    "closure_deleted": _l("Closure removed"),
    "closures_imported": _l("Closures imported"),
    "manager_assigned": _l("Manager assigned"),
    "manager_removed": _l("Manager removed"),
    "user_deactivated": _l("Account deactivated"),
    "user_reactivated": _l("Account reactivated"),
    "organisation_trusted": _l("Organisation trusted"),
    "organisation_untrusted": _l("Organisation no longer trusted"),
    "opening_exception_deleted": _l("Opening exception removed"),
    "admin_granted": _l("Made an administrator"),
    "admin_revoked": _l("No longer an administrator"),
    "password_reset_sent": _l("Password reset link sent"),
    "request_mails_changed": _l("Request e-mails changed"),
    "feature_created": _l("Equipment added to the list"),
    "feature_updated": _l("Equipment in the list changed"),
}

# Detail keys that are not a field of the site or room forms.
FIELD_LABELS = {
    "windows": _l("Opening hours"),
    "dates": _l("Dates"),
    "to_room_id": _l("Room"),
    "parent_id": _l("Part of"),
    "active": _l("Active"),
    "reason": _l("Reason"),
    "count": _l("Number"),
    "starts_at": _l("From"),
    "ends_at": _l("Until"),
    "day": _l("Day"),
    "opens": _l("Opens"),
    "closes": _l("Closes"),
    "created": _l("Added"),
    "changed": _l("Changed"),
    "unchanged": _l("Unchanged"),
    "source": _l("File"),
    "previous": _l("Before"),
    "value": _l("Now"),
    "photo": _l("Photo"),
    "key": _l("Key"),
    "label_de": _l("Name in German"),
    "label_en": _l("Name in English"),
    "position": _l("Position in the list"),
}

# Internal references a reader cannot use.
HIDDEN = frozenset({"closure_id", "source_uid"})

# Details that hold an ISO time or date.
MOMENTS = frozenset({"starts_at", "ends_at"})


def action_label(action: str) -> str:
    """The action in words; an action this page does not know yet still reads sensibly."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace("_", " ").capitalize()


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    for form in (RoomForm, SiteForm):
        unbound = getattr(form, name, None)
        if unbound is not None and getattr(unbound, "args", None):
            return str(unbound.args[0])
    return name.replace("_", " ").capitalize()


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(value: Any) -> str | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] <= 6
    ):
        return f"{WEEKDAY_LABELS[value[0]]} {_clock(value[1])}–{_clock(value[2])}"
    return None


def _date_text(value: str, zone: ZoneInfo | None = None) -> str:
    """An ISO time: one with an offset is shown in ``zone``, one without as it is (wall time)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = local(moment, zone or city_zone())
    return f"{fmt_date(moment, 'medium')} {fmt_time(moment)}"


def value_text(name: str, value: Any, zone: ZoneInfo | None = None) -> str:
    """One old or new value as a reader understands it (times in ``zone``)."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "windows" and isinstance(value, list):
        texts = [_window(w) for w in value]
        if all(texts):
            return ", ".join(t for t in texts if t)
    if name == "dates" and isinstance(value, list):
        return ", ".join(_date_text(v, zone) if isinstance(v, str) else str(v) for v in value)
    if name in MOMENTS and isinstance(value, str):
        return _date_text(value, zone)
    if name == "day" and isinstance(value, str):
        return _safe(lambda v: fmt_date(date.fromisoformat(v), "medium"), value)
    if name == "features" and isinstance(value, list):
        return ", ".join(_safe(feature_label, v) for v in value)
    if name == "approval_policy" and isinstance(value, str):
        return _safe(lambda v: str(APPROVAL_LABELS[ApprovalPolicy(v)]), value)
    if name == "kind" and isinstance(value, str):
        return _safe(lambda v: str(SITE_KIND_LABELS[SiteKind(v)]), value)
    if isinstance(value, list):
        return ", ".join(value_text("", v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)}: {value_text(k, v, zone)}" for k, v in value.items())
    return str(value)


def _safe(show, value) -> str:
    try:
        return str(show(value))
    except (KeyError, ValueError):
        return str(value)


def change_rows(entry: audit.HistoryEntry) -> list[tuple[str, str | None, str]]:
    """(label, old or None when nothing was there before, new) per change of an entry."""
    zone = ZoneInfo(entry.zone) if entry.zone else city_zone()
    return [
        (
            field_label(c.field),
            None if c.old is None else value_text(c.field, c.old, zone),
            value_text(c.field, c.new, zone),
        )
        for c in entry.changes
        if c.field not in HIDDEN
    ]


def entry_time(entry: audit.HistoryEntry) -> datetime:
    """When, as wall time in the site's zone (the city's for events without a site)."""
    return local(entry.at, entry.zone or city_zone())


def page_number() -> int:
    raw = request.args.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        abort(400, description=_("This page number is not valid."))
    if not 1 <= page <= 100_000:
        abort(400, description=_("This page number is not valid."))
    return page


def render_history(*, heading: str, found: audit.HistoryPage, back: tuple[str, str], **context):
    """The history page: ``context`` may carry a filter ``form`` and the pager's ``args``."""
    args = context.pop("args", {})
    status = context.pop("status", 200)
    return render_template(
        "admin/history.html",
        heading=heading,
        found=found,
        back=back,
        pager_endpoint=request.endpoint,
        pager_args={**(request.view_args or {}), **args},
        action_label=action_label,
        change_rows=change_rows,
        entry_time=entry_time,
        fmt_date=fmt_date,
        fmt_time=fmt_time,
        args=args,
        **context,
    ), status


@bp.get("/sites/<int:site_id>/history")
@login_required
def site_history(site_id: int):
    found = audit.history(current_user, site_id=site_id, page=page_number(), per_page=PER_PAGE)
    site = db.session.get(Site, site_id)
    return render_history(
        heading=_("History of %(name)s", name=site.name),
        found=found,
        back=(url_for("admin.edit_site", site_id=site_id), _("Edit the site")),
    )


@bp.get("/rooms/<int:room_id>/history")
@login_required
def room_history(room_id: int):
    found = audit.history(current_user, room_id=room_id, page=page_number(), per_page=PER_PAGE)
    room = db.session.get(Room, room_id)
    return render_history(
        heading=_("History of %(name)s", name=f"{room.name} ({room.site.name})"),
        found=found,
        back=(url_for("admin.edit_room", room_id=room_id), _("Edit the room")),
    )


class AuditFilterForm(FlaskForm):
    """The administrators' filters: a GET form, so no CSRF token and bookmarkable."""

    class Meta:
        csrf = False

    site = SelectField(_l("Site"), coerce=str, validators=[Optional()])
    room = SelectField(_l("Room"), coerce=str, validators=[Optional()])
    action = SelectField(_l("What"), coerce=str, validators=[Optional()])
    actor = StringField(
        _l("Changed by (e-mail)"),
        validators=[Optional(), Length(max=254)],
        description=_l("The e-mail address of the person who made the change."),
    )
    since = DateField(_l("From"), validators=[Optional(), year_in_range])
    until = DateField(_l("Until"), validators=[Optional(), year_in_range])

    def set_choices(self) -> None:
        sites = db.session.execute(select(Site.id, Site.name).order_by(Site.name)).all()
        rooms = db.session.execute(
            select(Room.id, Room.name, Site.name)
            .join(Site, Site.id == Room.site_id)
            .order_by(Site.name, Room.name)
        ).all()
        self.site.choices = [("", _("All sites"))] + [(str(i), n) for i, n in sites]
        self.room.choices = [("", _("All rooms"))] + [(str(i), f"{n} ({s})") for i, n, s in rooms]
        actions = sorted(
            ((k, str(label)) for k, label in ACTION_LABELS.items()), key=lambda c: c[1]
        )
        self.action.choices = [("", _("All changes")), *actions]

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end must not be before the start."))

    def filters(self) -> dict[str, Any]:
        zone = city_zone()
        start = self.since.data
        end = self.until.data
        return {
            "site_id": int(self.site.data) if self.site.data else None,
            "room_id": int(self.room.data) if self.room.data else None,
            "action": self.action.data or None,
            "actor_email": (self.actor.data or "").strip() or None,
            "since": domain.from_local(datetime.combine(start, time()), zone) if start else None,
            "until": domain.from_local(datetime.combine(end + timedelta(days=1), time()), zone)
            if end
            else None,
        }


ADMIN_FILTERS = ("site", "room", "action", "actor", "since", "until")


@bp.get("/audit")
@login_required
def audit_log():
    if not permissions.authenticated(current_user) or not current_user.is_admin:
        abort(403, description=_("Only administrators may see the whole history."))
    form = AuditFilterForm(formdata=request.args)
    form.set_choices()
    args = {k: request.args[k] for k in ADMIN_FILTERS if request.args.get(k)}
    page = page_number()
    empty = audit.HistoryPage([], page, PER_PAGE, 0)
    if not form.validate():
        return render_history(
            heading=_("History of all changes"),
            found=empty,
            back=(url_for("admin.index"), _("Sites and rooms")),
            form=form,
            args=args,
            status=422,
        )
    try:
        found = audit.history(current_user, page=page, per_page=PER_PAGE, **form.filters())
    except InvalidRequest as exc:
        field_error(form, exc)
        found, status = empty, 422
    else:
        status = 200
    return render_history(
        heading=_("History of all changes"),
        found=found,
        back=(url_for("admin.index"), _("Sites and rooms")),
        form=form,
        args=args,
        status=status,
    )
